using System.Globalization;

namespace Pipeline.Benchmarks;

/// <summary>`--name value` options of the benchmark command lines.</summary>
internal static class Arguments
{
    public static string Get(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, "--" + name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    public static string? Get(string[] args, string name) => Get(args, name, "") is { Length: > 0 } value ? value : null;

    public static int Int(string[] args, string name, int fallback) => int.Parse(Get(args, name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    public static double Double(string[] args, string name, double fallback) =>
        double.Parse(Get(args, name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    public static bool Flag(string[] args, string name) => args.Contains("--" + name);
}
