using Pipeline.Denoising.Inference;
using Pipeline.Dicom;

namespace Pipeline.Denoising.Dicom;

/// <summary>
/// Denoises one series of parsed DICOM instances (in slice order) into derived instances: every
/// frame of every instance is a slice; slices of one size are normalised and denoised together (2.5D
/// neighbours come from the same stack); each instance is re-encoded in its own bit depth. An
/// instance whose pixels cannot be decoded or derived fails alone. No storage, no messages.
/// </summary>
public sealed class DicomSeriesDenoiser(SeriesDenoiser denoiser, DerivationOptions derivation)
{
    /// <param name="instances">Parsed source instances in slice order; null where the object could not be parsed
    /// (its outcome is then the caller's).</param>
    /// <param name="slicesDone">Receives the number of slices finished after each batch.</param>
    public IReadOnlyList<InstanceOutcome?> Denoise(IReadOnlyList<DicomFile?> instances, Action<int>? slicesDone = null)
    {
        var series = DecodedSeries.Decode(instances);
        series.Denoise(denoiser, slicesDone);
        return series.Derive(derivation);
    }
}
