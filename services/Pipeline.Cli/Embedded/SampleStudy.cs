namespace Pipeline.Cli.Embedded;

/// <summary>The sample study shipped beside the tool (tests/data/sample-study: Colin27 MR with 5% Rician noise).</summary>
internal static class SampleStudy
{
    /// <summary>The noisy series, the default input of `pipeline run`.</summary>
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "sample-study", "t1-noisy");
}
