using System.Text.Json;

namespace Pipeline.Hosting;

/// <summary>
/// JSON of the Pipeline.Contracts documents in the buckets (completion markers, failure records, reference registrations,
/// held-out sets): the records' own property names, indented, read in any letter case. Evaluation reports use snake_case instead.
/// </summary>
public static class ContractJson
{
    public static readonly JsonSerializerOptions Options = new() { PropertyNameCaseInsensitive = true, WriteIndented = true };
}
