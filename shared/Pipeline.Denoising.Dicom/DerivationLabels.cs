using Pipeline.Dicom;

namespace Pipeline.Denoising.Dicom;

/// <summary>What derived series say about their use (the denoise worker maps its DenoiseWorker settings onto it).</summary>
public sealed record DerivationLabelOptions
{
    /// <summary>The labels every derived series carries unless configured otherwise.</summary>
    public static DerivationLabelOptions Default { get; } = new();

    /// <summary>Appended to the Series Description of derived series (LO: the source's text is cut to fit 64 characters).</summary>
    public string SeriesDescriptionSuffix { get; init; } = " DENOISED";

    /// <summary>Mark derived series "NOT FOR DIAGNOSTIC USE" in the Series Description and Image Comments.</summary>
    public bool NotForDiagnosticUse { get; init; } = true;
}

/// <summary>What a derived series says about what made it (the worker and the CLI's `model denoise` alike).</summary>
public static class DerivationLabels
{
    /// <param name="modelVersion">The model version id as jobs name it (e.g. "denoiser/1"): part of every derived UID.</param>
    /// <param name="modelName">The model's name (the registry folder, e.g. "denoiser"): the equipment's model name.</param>
    /// <param name="architecture">The network architecture (e.g. "unet").</param>
    /// <param name="labels">The use labels.</param>
    public static DerivationOptions For(string modelVersion, string modelName, string architecture, DerivationLabelOptions labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        return new DerivationOptions
        {
            ModelVersion = modelVersion,
            SeriesDescriptionSuffix = labels.SeriesDescriptionSuffix + (labels.NotForDiagnosticUse ? " NOT FOR DIAGNOSTIC USE" : ""),
            DerivationDescription = $"Denoised by convolutional denoising network {modelVersion} ({architecture}), Pipeline",
            // As IHE AI Results does for algorithm outputs: the equipment is the algorithm.
            Equipment = ("Pipeline", $"{modelName} ({architecture})", modelVersion),
            ImageComments = labels.NotForDiagnosticUse
                ? $"NOT FOR DIAGNOSTIC USE. Denoised by model {modelVersion}; compare with the source series."
                : null,
        };
    }
}
