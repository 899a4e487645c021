using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace Pipeline.Architecture.Tests;

/// <summary>
/// Log event ids: unique across the product (services share one process in embedded mode, and operators filter by id),
/// and each inside its project's range as README.md's table writes it down.
/// </summary>
public sealed partial class LogEventIdTests
{
    [Fact]
    public void Every_log_event_id_is_unique_across_the_product_and_inside_its_projects_range()
    {
        var ranges = Ranges();
        var events = ProductAssemblies.Load().SelectMany(EventIds).ToList();
        Assert.True(events.Count >= 20, $"only {events.Count} [LoggerMessage] methods found: the scan is broken");

        var duplicates = events.GroupBy(e => e.Id).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(e => e.Method))}").ToList();
        Assert.True(duplicates.Count == 0, "duplicate log event ids:\n" + string.Join('\n', duplicates));

        var outside = events.Where(e => !ranges.TryGetValue(e.Assembly, out var r) || e.Id < r.First || e.Id > r.Last)
            .Select(e => $"{e.Method} ({e.Assembly}): {e.Id}, range {(ranges.TryGetValue(e.Assembly, out var r) ? $"{r.First}-{r.Last}" : "none in README.md")}")
            .ToList();
        Assert.True(outside.Count == 0, "log event ids outside their project's range:\n" + string.Join('\n', outside));
    }

    [Fact]
    public void The_ranges_in_the_readme_do_not_overlap()
    {
        var ranges = Ranges().OrderBy(r => r.Value.First).ToList();
        Assert.True(ranges.Count >= 8, "README.md's log event id table was not found");
        for (var i = 1; i < ranges.Count; i++)
            Assert.True(ranges[i].Value.First > ranges[i - 1].Value.Last, $"{ranges[i - 1].Key} and {ranges[i].Key} overlap");
    }

    private static IEnumerable<(string Assembly, int Id, string Method)> EventIds(Assembly assembly)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        foreach (var type in assembly.GetTypes())
        {
            foreach (var method in type.GetMethods(all))
            {
                foreach (var attribute in method.GetCustomAttributesData().Where(a => a.AttributeType == typeof(LoggerMessageAttribute)))
                {
                    var id = attribute.NamedArguments.Where(n => n.MemberName == nameof(LoggerMessageAttribute.EventId)).Select(n => (int?)n.TypedValue.Value).FirstOrDefault()
                        ?? attribute.ConstructorArguments.Where(a => a.ArgumentType == typeof(int)).Select(a => (int?)a.Value).FirstOrDefault();
                    if (id is { } value) yield return (assembly.GetName().Name!, value, $"{type.FullName}.{method.Name}");
                    else Assert.Fail($"{type.FullName}.{method.Name} has a [LoggerMessage] without an event id");
                }
            }
        }
    }

    /// <summary>The table in README.md: "| Pipeline.X | 100-199 |".</summary>
    private static Dictionary<string, (int First, int Last)> Ranges() =>
        RangeRow().Matches(File.ReadAllText(Path.Combine(ProductAssemblies.RepositoryRoot, "README.md")))
            .ToDictionary(m => m.Groups[1].Value, m => (int.Parse(m.Groups[2].Value), int.Parse(m.Groups[3].Value)));

    [GeneratedRegex(@"^\| `([A-Za-z.]+)`[^|]*\| (\d+)-(\d+) \|", RegexOptions.Multiline)]
    private static partial Regex RangeRow();
}
