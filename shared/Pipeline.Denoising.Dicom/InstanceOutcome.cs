using Pipeline.Dicom;

namespace Pipeline.Denoising.Dicom;

/// <summary>What became of one source instance: its derived instance (with the no-reference noise estimate of its
/// first frame before and after, in modality units, when it is in the noise sample), or why there is none.</summary>
public sealed record InstanceOutcome(DicomFile? Derived, string? FailureReason, string? ErrorType, double NoiseInput = double.NaN, double NoiseOutput = double.NaN)
{
    public static InstanceOutcome Failed(Exception e) => new(null, e.Message, e.GetType().Name);
}
