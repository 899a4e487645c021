using System.ComponentModel;
using Pipeline.Hosting;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Pipeline.Cli.Commands.Pipeline;

/// <summary>
/// `pipeline trace STUDY_UID`: the study's trace id, to paste into Grafana's trace search. Every service starts a study's
/// spans under the parent <see cref="StudyTrace"/> derives from the UID, so this is the id of the study's one trace; it
/// needs no server, and the id (a hash) says nothing about the study.
/// </summary>
internal sealed class TraceCommand : Command<TraceCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<STUDY_UID>"), Description("Study Instance UID (0020,000D)")]
        public string StudyInstanceUid { get; init; } = "";

        public override ValidationResult Validate() => string.IsNullOrWhiteSpace(StudyInstanceUid)
            ? ValidationResult.Error("STUDY_UID is empty")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        Console.Out.WriteLine(StudyTrace.ParentOf(settings.StudyInstanceUid.Trim()).TraceId.ToHexString());
        return 0;
    }
}
