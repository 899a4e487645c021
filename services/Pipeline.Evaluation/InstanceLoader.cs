using Pipeline.Contracts;
using Pipeline.Dicom;
using Pipeline.Imaging;
using Pipeline.Imaging.Dicom;
using Pipeline.Storage;

namespace Pipeline.Evaluation;

/// <summary>A decoded object: frame 0 with its position data, every frame, modality and SOP Instance UID.</summary>
internal sealed record LoadedInstance(ObjectRef Object, SeriesInstance Instance, IReadOnlyList<Image> Frames, string Modality, string? SopInstanceUid);

/// <summary>One source/derived pair: both decoded, or the reason it cannot be evaluated.</summary>
internal sealed class LoadedPair(DenoisedInstance objects, LoadedInstance? source, LoadedInstance? derived, string? failure)
{
    public DenoisedInstance Objects { get; } = objects;
    public LoadedInstance? Source { get; } = source;
    public LoadedInstance? Derived { get; } = derived;
    /// <summary>Why the pair cannot be evaluated: set when reading, or when measuring refuses the images.</summary>
    public string? Failure { get; set; } = failure;
}

/// <summary>Reads source, derived and reference objects as DICOM images; a bad object is a problem of that object alone.</summary>
internal sealed class InstanceLoader(IObjectStore store, DicomReadOptions limits)
{
    public async Task<LoadedPair> LoadPairAsync(DenoisedInstance objects, CancellationToken ct)
    {
        var (source, sourceProblem) = await LoadAsync(objects.Source, ct);
        var (derived, derivedProblem) = await LoadAsync(objects.Derived, ct);
        var failure = sourceProblem is not null ? $"source: {sourceProblem}"
            : derivedProblem is not null ? $"derived: {derivedProblem}"
            : Mismatch(source!, derived!, "derived");
        return new LoadedPair(objects, failure is null ? source : null, failure is null ? derived : null, failure);
    }

    /// <summary>
    /// Reads an object as a DICOM image with all its frames. A missing object or anything the parser or pixel decoder
    /// throws is a problem of this object alone; storage errors propagate (the bus retries them).
    /// </summary>
    public async Task<(LoadedInstance? Instance, string? Problem)> LoadAsync(ObjectRef obj, CancellationToken ct)
    {
        byte[] bytes;
        try
        {
            bytes = await store.GetBytesAsync(obj.Bucket, obj.Key, cancellationToken: ct);
        }
        catch (ObjectNotFoundException)
        {
            return (null, "object not found");
        }
        try
        {
            var file = DicomFile.Open(bytes, limits);
            var instance = SeriesInstance.From(file, obj.ToString());
            var frames = new List<Image> { instance.Image };
            for (var k = 1; k < file.GetPixelData().FrameCount; k++) frames.Add(DicomImages.ToImage(file, k));
            var ds = file.Dataset;
            return (new LoadedInstance(obj, instance, frames, ds.GetString(DicomTags.Modality) ?? "", ds.GetString(DicomTags.SOPInstanceUID)), null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return (null, $"not a readable DICOM image: {e.Message}");
        }
    }

    /// <summary>Why <paramref name="other"/> cannot be compared pixel by pixel with <paramref name="source"/>, or null.</summary>
    public static string? Mismatch(LoadedInstance source, LoadedInstance other, string name)
    {
        var (a, b) = (source.Frames[0], other.Frames[0]);
        if (a.Width != b.Width || a.Height != b.Height)
            return $"{name} is {b.Width}x{b.Height}, source {a.Width}x{a.Height}";
        return source.Frames.Count != other.Frames.Count ? $"{name} has {other.Frames.Count} frames, source {source.Frames.Count}" : null;
    }
}
