using Pipeline.Denoising.Baselines;
using Pipeline.Imaging;
using Pipeline.Imaging.Normalisation;

namespace Pipeline.Denoising.Inference;

/// <summary>
/// Denoises one series in physical units: fits the series' intensity mapping, runs the slices
/// through the engine, maps back with the exact inverse, and keeps background/saturated pixels.
/// </summary>
public sealed class SeriesDenoiser(IDenoisingEngine engine, NormalisationOptions normalisation, TilingOptions? tiling = null) : ISeriesDenoiser
{
    private readonly SliceDenoiser _slices = new(engine, tiling);

    public IDenoisingEngine Engine => engine;

    public string Name => "model";

    public int ContextSlices => engine.Architecture.ContextSlices;

    public bool ThreadSafe => false;

    IReadOnlyList<Image> ISeriesDenoiser.Denoise(IReadOnlyList<Image> series) => Denoise(series);

    public IReadOnlyList<Image> Denoise(IReadOnlyList<Image> series, IProgress<int>? slicesDone = null, CancellationToken cancellationToken = default) =>
        DenoiseSome(series, null, null, slicesDone, cancellationToken)!;

    /// <summary>
    /// Denoises the <paramref name="wanted"/> slices only, stopping early when <paramref name="stop"/> says so (see
    /// <see cref="SliceDenoiser.DenoiseSome"/>): the intensity mapping is still fitted to the whole series, so each slice
    /// comes out as it would in a whole run. Null where a slice was not wanted or not finished.
    /// </summary>
    public Image?[] DenoiseSome(IReadOnlyList<Image> series, Func<int, bool>? wanted, Func<bool>? stop, IProgress<int>? slicesDone = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0)
            return [];
        var mapping = IntensityNormalisation.Fit(series, normalisation);
        var normalised = series.Select(s => mapping.Normalise(s).Pixels).ToArray();
        var denoised = _slices.DenoiseSome(normalised, series[0].Height, series[0].Width, wanted, stop, slicesDone, cancellationToken);
        var result = new Image?[series.Count];
        for (var k = 0; k < series.Count; k++)
        {
            if (denoised[k] is not { } slice) continue;
            var image = series[k].Blank();
            mapping.Denormalise(slice, image.Pixels);
            result[k] = mapping.RestoreExcluded(series[k], image);
        }
        return result;
    }
}
