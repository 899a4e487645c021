using System.ComponentModel;
using Pipeline.Dicom;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands.Dicom;

/// <summary>`pipeline dicom transcode IN OUT --syntax ...`.</summary>
internal sealed class TranscodeCommand : DicomCommand<TranscodeCommand.Settings>
{
    internal sealed class Settings : DicomInputSettings
    {
        [CommandArgument(1, "<OUT>")]
        public string Output { get; init; } = "";

        [CommandOption("--syntax <SYNTAX>")]
        [Description("explicit-le (default), implicit-le, big-endian, deflate or rle.")]
        public string Syntax { get; init; } = "explicit-le";

        public override ValidationResult Validate() => SyntaxNames.TryGet(Syntax, out _)
            ? ValidationResult.Success()
            : ValidationResult.Error($"unknown syntax '{Syntax}': use {string.Join(", ", SyntaxNames.All)}");
    }

    protected override int Run(Settings settings)
    {
        SyntaxNames.TryGet(settings.Syntax, out var syntax);
        var file = settings.OpenInput();
        // Encode fully in memory first so a failure leaves no half-written output behind.
        var buffer = new MemoryStream();
        file.Save(buffer, syntax);
        File.WriteAllBytes(settings.Output, buffer.ToArray());
        return 0;
    }
}

/// <summary>Command-line names of the writable transfer syntaxes.</summary>
internal static class SyntaxNames
{
    private static readonly Dictionary<string, TransferSyntax> Names = new(StringComparer.OrdinalIgnoreCase)
    {
        ["explicit-le"] = TransferSyntax.ExplicitVRLittleEndian,
        ["implicit-le"] = TransferSyntax.ImplicitVRLittleEndian,
        ["big-endian"] = TransferSyntax.ExplicitVRBigEndian,
        ["deflate"] = TransferSyntax.DeflatedExplicitVRLittleEndian,
        ["rle"] = TransferSyntax.RleLossless,
    };

    public static IEnumerable<string> All => Names.Keys;

    public static bool TryGet(string name, out TransferSyntax syntax) => Names.TryGetValue(name, out syntax!);
}
