namespace Pipeline.Testing;

/// <summary>Paths of the committed test data (tests/data), found from the test assembly's folder upwards.</summary>
public static class SampleData
{
    /// <summary>tests/data/sample-study: Colin27 MR series, clean (t1) and with 5% Rician noise (t1-noisy).</summary>
    public static string SampleStudy => Path.Combine(DataFolder, "sample-study");

    public static string DataFolder
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "tests", "data");
                if (Directory.Exists(candidate)) return candidate;
            }
            throw new DirectoryNotFoundException($"tests/data not found above {AppContext.BaseDirectory}");
        }
    }
}
