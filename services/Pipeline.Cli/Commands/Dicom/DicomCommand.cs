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
