using Pipeline.Denoising.Inference;
using Pipeline.Denoising.Models;
using Pipeline.Dicom;

namespace Pipeline.Denoising.Dicom.Tests;

/// <summary>The bundled model on ONNX Runtime, opened once for the tests of a class.</summary>
public sealed class ModelFixture : IDisposable
{
    public ModelFixture() =>
        Denoiser = DenoisingModel.OpenOnnx(ModelFolder.Load(DenoisingModel.DefaultFolder), new EngineOptions { Threads = 1, Device = DevicePreference.Cpu });

    public SeriesDenoiser Denoiser { get; }

    public static DerivationOptions Derivation { get; } = DerivationLabels.For("denoiser/1", "denoiser", "unet", DerivationLabelOptions.Default);

    /// <summary>A copy of a sample instance that the denoiser refuses: one sample per pixel, but PALETTE COLOR.</summary>
    public static DicomFile PaletteColour(string path)
    {
        var file = DicomFile.Open(path);
        file.Dataset.SetString(DicomTags.PhotometricInterpretation, "PALETTE COLOR");
        return file;
    }

    public void Dispose() => Denoiser.Engine.Dispose();
}
