using System.ComponentModel;
using Pipeline.Dicom;
using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands.Dicom;

/// <summary>Shared failure handling: bad input ends with a one-line reason on stderr and exit code 1.</summary>
internal abstract class DicomCommand<TSettings> : Command<TSettings> where TSettings : CommandSettings
{
    public sealed override int Execute(CommandContext context, TSettings settings, CancellationToken cancellationToken)
    {
        try
        {
            return Run(settings);
        }
        catch (Exception e) when (e is DicomException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: {e.Message.ReplaceLineEndings(" ")}");
            return 1;
        }
    }

    protected abstract int Run(TSettings settings);
}

/// <summary>An input file whose pixels are decoded, optionally through an external transcoder.</summary>
internal abstract class DicomInputSettings : CommandSettings
{
    [CommandArgument(0, "<IN>")]
    public string Input { get; init; } = "";

    [CommandOption("--transcoder <GDCMCONV>")]
    [Description("Path of GDCM's gdcmconv, to decode syntaxes without a built-in codec (JPEG-LS, JPEG 2000). Off by default.")]
    public string? Transcoder { get; init; }

    public DicomFile OpenInput() => DicomFile.Open(Input, new DicomReadOptions { ExternalTranscoderPath = Transcoder });
}
