using System.Text.Json;

namespace Pipeline.Evaluation;

/// <summary>
/// JSON of the Pipeline.Contracts documents in the buckets (reference registrations, held-out sets, markers, failure
/// records): the records' own property names, read in any letter case. The evaluation's reports use snake_case instead.
/// </summary>
internal static class ContractJson
{
    public static readonly JsonSerializerOptions Options = new() { PropertyNameCaseInsensitive = true, WriteIndented = true };
}
