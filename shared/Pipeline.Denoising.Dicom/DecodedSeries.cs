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
    public void Denoise(SeriesDenoiser denoiser, Action<int>? slicesDone = null, CancellationToken cancellationToken = default) =>
        DenoiseSome(denoiser, null, null, slicesDone, cancellationToken);

    /// <summary>
    /// Like <see cref="Denoise"/> for the instances <paramref name="wanted"/> (by index; all when null), stopping between
    /// batches once <paramref name="stop"/> says so (after at least one slice). Every decoded instance still counts for the
    /// series' intensity mapping and as a 2.5D neighbour, so an instance comes out byte-identical to a whole run.
    /// </summary>
    /// <returns>Whether every wanted instance was denoised (else the rest is left for a later call).</returns>
    public bool DenoiseSome(SeriesDenoiser denoiser, Func<int, bool>? wanted, Func<bool>? stop, Action<int>? slicesDone = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        // A series normally has one slice size; a stray localizer of another size is denoised on its own.
        var stacks = Enumerable.Range(0, _instances.Count).Where(i => _frames[i] is not null)
            .SelectMany(i => _frames[i]!.Select((image, f) => (Instance: i, Frame: f, Image: image)))
            .GroupBy(s => (s.Image.Width, s.Image.Height));
        var complete = true;
        foreach (var stack in stacks)
        {
            var slices = stack.ToList();
            // Nothing wanted here, or stopped in an earlier stack (this one waits too).
            if (!complete || !slices.Any(s => wanted?.Invoke(s.Instance) ?? true))
                continue;
            var done = 0;
            var output = denoiser.DenoiseSome([.. slices.Select(s => s.Image)], k => wanted?.Invoke(slices[k].Instance) ?? true, stop,
                slicesDone is null ? null : new SyncProgress(n => { slicesDone(n - done); done = n; }), cancellationToken);
            var results = new Dictionary<int, Image?[]>();
            for (var k = 0; k < slices.Count; k++)
            {
                if (!(wanted?.Invoke(slices[k].Instance) ?? true)) continue;
                (results.TryGetValue(slices[k].Instance, out var frames) ? frames : results[slices[k].Instance] = new Image?[_frames[slices[k].Instance]!.Length])
                    [slices[k].Frame] = output[k];
            }
            // An instance counts as denoised only with all of its frames.
            foreach (var (instance, frames) in results)
            {
                if (frames.All(f => f is not null)) _denoised[instance] = [.. frames.Select(f => f!)];
                else complete = false;
            }
        }
        return complete;
    }

    /// <summary>Instances whose noise is estimated: up to this many, evenly spaced (two estimates of a slice cost
    /// more CPU than encoding it, and the series figure is their mean).</summary>
    public const int NoiseSampleInstances = 8;

    /// <summary>Whether the instance at <paramref name="index"/> of a series of <paramref name="count"/> is in the noise sample.</summary>
    public static bool InNoiseSample(int index, int count) => index % ((count + NoiseSampleInstances - 1) / NoiseSampleInstances) == 0;

    /// <summary>Encodes one derived instance per denoised source (plus the noise figures of a sample of them, see
    /// <see cref="NoiseSampleInstances"/>); null where the caller decides (the source was not parsed).</summary>
    public IReadOnlyList<InstanceOutcome?> Derive(DerivationOptions derivation)
    {
        ArgumentNullException.ThrowIfNull(derivation);
        var outcomes = (InstanceOutcome?[])_outcomes.Clone();
        for (var i = 0; i < _instances.Count; i++)
        {
            if (_denoised[i] is not { } images) continue;
            var sampled = InNoiseSample(i, _instances.Count);
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
