using System.Text.Json;

namespace Pipeline.Testing;

/// <summary>
/// The run invariant of `pipeline run` (README.md): every input object ends as an output (a source in some series'
/// completion marker) or with a failure record naming it and a reason. Read from the folders as a user would.
/// </summary>
public static class RunInvariant
{
    /// <summary>The keys (relative to <paramref name="input"/>) of input objects that ended as neither.</summary>
    public static IReadOnlyList<string> LostObjects(string input, string output)
    {
        var denoised = DenoisedSources(output);
        var recorded = Directory.Exists(Path.Combine(output, "failures"))
            ? Directory.GetFiles(Path.Combine(output, "failures"), "*.json", SearchOption.AllDirectories)
                .Select(r => JsonDocument.Parse(File.ReadAllText(r)).RootElement)
                .Where(r => !string.IsNullOrWhiteSpace(r.GetProperty("Reason").GetString()))
                .Select(r => r.GetProperty("Source").GetProperty("Key").GetString()!)
                .ToHashSet(StringComparer.Ordinal)
            : [];
        return Directory.GetFiles(input, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(input, f).Replace('\\', '/'))
            .Where(key => !denoised.Contains(key) && !recorded.Contains(key))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Source keys listed under Instances in the completion markers below <paramref name="output"/>.</summary>
    public static HashSet<string> DenoisedSources(string output) =>
        Directory.GetFiles(output, "complete.json", SearchOption.AllDirectories)
            .SelectMany(m => JsonDocument.Parse(File.ReadAllText(m)).RootElement.GetProperty("Instances").EnumerateArray())
            .Select(i => i.GetProperty("Source").GetProperty("Key").GetString()!)
            .ToHashSet(StringComparer.Ordinal);
}
