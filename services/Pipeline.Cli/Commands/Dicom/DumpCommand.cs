using System.ComponentModel;
using System.Text;
using Pipeline.Dicom;
using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands.Dicom;

/// <summary>`pipeline dicom dump FILE`: one line per element, nested items indented, like dcmdump.</summary>
internal sealed class DumpCommand : DicomCommand<DumpCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<FILE>")]
        [Description("DICOM file to print.")]
        public string File { get; init; } = "";
    }

    protected override int Run(Settings settings)
    {
        var file = DicomFile.ReadHeader(settings.File);
        var output = new StringBuilder();
        output.AppendLine($"# Transfer syntax: {file.TransferSyntax}");
        output.AppendLine("# Meta information");
        DicomDump.Write(output, file.Meta, 0);
        output.AppendLine("# Dataset");
        DicomDump.Write(output, file.Dataset, 0);
        if (file.PixelDataLocation is { } p)
            output.AppendLine($"(7FE0,0010) {p.VR} {(p.IsEncapsulated ? "encapsulated, undefined length" : $"{p.Length} bytes")} at offset {p.ValueOffset}");
        Console.Out.Write(output.ToString());
        return 0;
    }
}
