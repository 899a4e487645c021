using System.ComponentModel;
using Pipeline.Dicom;
using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands.Dicom;

/// <summary>`pipeline dicom pixels IN OUT.raw`: the (7FE0,0010) value as native Explicit VR Little Endian holds it.</summary>
internal sealed class PixelsCommand : DicomCommand<PixelsCommand.Settings>
{
    internal sealed class Settings : DicomInputSettings
    {
        [CommandArgument(1, "<OUT>")]
        [Description("Raw output: all frames, stored values, no rescale.")]
        public string Output { get; init; } = "";
    }

    protected override int Run(Settings settings)
    {
        var bytes = settings.OpenInput().GetPixelData().ToNativeBytes();
        File.WriteAllBytes(settings.Output, bytes);
        return 0;
    }
}
