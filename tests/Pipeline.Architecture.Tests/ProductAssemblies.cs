using System.Reflection;

namespace Pipeline.Architecture.Tests;

/// <summary>The product's assemblies as built next to this test (every Pipeline.* assembly that is not a test or test support).</summary>
internal static class ProductAssemblies
{
    public static IReadOnlyList<Assembly> Load() =>
        [.. Directory.GetFiles(AppContext.BaseDirectory, "Pipeline.*.dll").Append(Path.Combine(AppContext.BaseDirectory, "pipeline.dll"))
            .Select(Path.GetFileNameWithoutExtension)
            .Where(name => !name!.EndsWith(".Tests", StringComparison.Ordinal) && name != "Pipeline.Testing")
            .Select(name => Assembly.Load(name!))];

    /// <summary>The repository's root folder (holds Pipeline.sln).</summary>
    public static string RepositoryRoot => Path.GetFullPath(Path.Combine(SampleData.DataFolder, "..", ".."));
}
