using System.ComponentModel.DataAnnotations;

namespace Pipeline.Evaluation;

/// <summary>Evaluation settings, configuration section "Evaluation".</summary>
internal sealed class EvaluationOptions
{
    public const string Section = "Evaluation";

    /// <summary>How many slices the montage shows (evenly spaced inner slices of the series).</summary>
    [Range(1, 16)]
    public int MontageSlices { get; set; } = 3;
}
