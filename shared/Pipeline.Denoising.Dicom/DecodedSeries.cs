using Pipeline.Denoising.Inference;
using Pipeline.Dicom;
using Pipeline.Imaging;
using Pipeline.Imaging.Dicom;
using Pipeline.Imaging.Noise;

namespace Pipeline.Denoising.Dicom;

/// <summary>
/// One series on its way through <see cref="DicomSeriesDenoiser"/>, in three steps that a worker can run apart:
/// <see cref="Decode"/> and <see cref="Derive"/> are CPU work of their own, only <see cref="Denoise"/> needs the engine.
/// </summary>
public sealed class DecodedSeries
{
    private readonly IReadOnlyList<DicomFile?> _instances;
    private readonly InstanceOutcome?[] _outcomes;
    private readonly Image[]?[] _frames;
    private readonly Image[]?[] _denoised;

    private DecodedSeries(IReadOnlyList<DicomFile?> instances)
    {
        _instances = instances;
        _outcomes = new InstanceOutcome?[instances.Count];
        _frames = new Image[instances.Count][];
        _denoised = new Image[instances.Count][];
    }

    /// <summary>Decodes every frame; an instance whose pixels cannot be decoded fails alone.</summary>
    /// <param name="instances">Parsed source instances in slice order; null where the object could not be parsed.</param>
    public static DecodedSeries Decode(IReadOnlyList<DicomFile?> instances)
    {
        ArgumentNullException.ThrowIfNull(instances);
        var series = new DecodedSeries(instances);
        for (var i = 0; i < instances.Count; i++)
        {
            if (instances[i] is not { } file) continue;
            try
            {
                var count = file.GetPixelData().FrameCount;
                if (count < 1) throw new InvalidDataException("the instance has no frames");
                series._frames[i] = [.. Enumerable.Range(0, count).Select(f => DicomImages.ToImage(file, f))];
            }
            catch (Exception e) when (e is DicomException or NotSupportedException or InvalidDataException or ArgumentException)
            {
                series._outcomes[i] = InstanceOutcome.Failed(e);
            }
        }
        return series;
    }

    /// <summary>Runs the decoded slices through <paramref name="denoiser"/> (the only step that uses the engine).</summary>
    /// <param name="slicesDone">Receives the number of slices finished after each batch.</param>
    /// <param name="cancellationToken">Observed between batches.</param>
    public void Denoise(SeriesDenoiser denoiser, Action<int>? slicesDone = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        // A series normally has one slice size; a stray localizer of another size is denoised on its own.
        var stacks = Enumerable.Range(0, _instances.Count).Where(i => _frames[i] is not null)
            .SelectMany(i => _frames[i]!.Select((image, f) => (Instance: i, Frame: f, Image: image)))
            .GroupBy(s => (s.Image.Width, s.Image.Height));
        foreach (var stack in stacks)
        {
            var slices = stack.ToList();
            var done = 0;
            var output = denoiser.Denoise([.. slices.Select(s => s.Image)],
                slicesDone is null ? null : new SyncProgress(n => { slicesDone(n - done); done = n; }), cancellationToken);
            for (var k = 0; k < slices.Count; k++)
                (_denoised[slices[k].Instance] ??= new Image[_frames[slices[k].Instance]!.Length])[slices[k].Frame] = output[k];
        }
    }

    /// <summary>Instances whose noise is estimated: up to this many, evenly spaced (two estimates of a slice cost
    /// more CPU than encoding it, and the series figure is their mean).</summary>
    public const int NoiseSampleInstances = 8;

    /// <summary>Encodes one derived instance per denoised source (plus the noise figures of a sample of them, see
    /// <see cref="NoiseSampleInstances"/>); null where the caller decides (the source was not parsed).</summary>
    public IReadOnlyList<InstanceOutcome?> Derive(DerivationOptions derivation)
    {
        ArgumentNullException.ThrowIfNull(derivation);
        var outcomes = (InstanceOutcome?[])_outcomes.Clone();
        var stride = (_instances.Count + NoiseSampleInstances - 1) / NoiseSampleInstances;
        for (var i = 0; i < _instances.Count; i++)
        {
            if (_denoised[i] is not { } images) continue;
            var sampled = i % stride == 0;
            try
            {
                outcomes[i] = new InstanceOutcome(DerivedInstance.Create(_instances[i]!.Dataset, [.. images.Select(im => im.Pixels)], derivation), null, null,
                    sampled ? Noise(_frames[i]![0]) : double.NaN, sampled ? Noise(images[0]) : double.NaN);
            }
            catch (DicomException e)
            {
                outcomes[i] = InstanceOutcome.Failed(e);
            }
        }
        return outcomes;
    }

    /// <summary>The estimator needs a 3x3 neighbourhood; smaller images still denoise, without the figure.</summary>
    private static double Noise(Image image) => image.Width >= 3 && image.Height >= 3 ? NoiseEstimator.Estimate(image) : double.NaN;

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
    private sealed class SyncProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
