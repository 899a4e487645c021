using Pipeline.Contracts;
using Pipeline.Imaging;
using Pipeline.Imaging.Pictures;
using Pipeline.Storage;

namespace Pipeline.Evaluation;

/// <summary>Writes the before/after/difference montage of a series at <see cref="BucketLayout.Montage"/>.</summary>
internal sealed class MontageWriter(IObjectStore store, string outputBucket, int montageSlices)
{
    /// <summary>
    /// Original | denoised | difference of evenly spaced readable pairs (frame 0) of the first pair's size, or null when
    /// none qualifies.
    /// </summary>
    public async Task<MontageSummary?> WriteAsync(SeriesDenoised job, List<LoadedPair> pairs, CancellationToken ct)
    {
        var first = pairs.First(p => p.Failure is null).Source!.Frames[0];
        var shown = pairs.Select((p, i) => (Pair: p, Index: i))
            .Where(p => p.Pair.Failure is null && p.Pair.Source!.Frames[0].Width == first.Width && p.Pair.Source.Frames[0].Height == first.Height)
            .ToList();
        var geometry = VolumeGeometry.Identity(first.ColumnSpacing, first.RowSpacing);
        var original = new Volume([.. shown.Select(p => p.Pair.Source!.Frames[0])], geometry);
        var denoised = new Volume([.. shown.Select(p => p.Pair.Derived!.Frames[0])], geometry);
        var slices = SeriesMontage.MidSlices(shown.Count, montageSlices);
        if (slices.Length == 0) slices = [0];
        var png = SeriesMontage.Render(original, denoised, slices);
        var image = new ObjectRef(outputBucket, BucketLayout.Montage(job.StudyInstanceUid, job.SourceSeriesInstanceUid, job.ModelVersion));
        await store.PutBytesAsync(image.Bucket, image.Key, png, new ObjectWriteOptions("image/png"), ct);
        return new MontageSummary(image, [.. slices.Select(k => shown[k].Index)]);
    }
}
