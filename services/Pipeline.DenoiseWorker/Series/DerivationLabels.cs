using Pipeline.Dicom;
using Pipeline.Registry;

namespace Pipeline.DenoiseWorker.Series;

/// <summary>What a derived series says about what made it (the worker and the CLI's `model denoise` alike).</summary>
public static class DerivationLabels
{
    public static DerivationOptions For(ModelVersionId version, string architecture, DenoiseWorkerOptions settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new DerivationOptions
        {
            ModelVersion = version.ToString(),
            SeriesDescriptionSuffix = settings.SeriesDescriptionSuffix + (settings.NotForDiagnosticUse ? " NOT FOR DIAGNOSTIC USE" : ""),
            DerivationDescription = $"Denoised by convolutional denoising network {version} ({architecture}), Pipeline",
            // As IHE AI Results does for algorithm outputs: the equipment is the algorithm.
            Equipment = ("Pipeline", $"{version.Name} ({architecture})", version.ToString()),
            ImageComments = settings.NotForDiagnosticUse
                ? $"NOT FOR DIAGNOSTIC USE. Denoised by model {version}; compare with the source series."
                : null,
        };
    }
}
