using System.Diagnostics;

namespace Pipeline.Cli.Tests;

/// <summary>Runs the real `pipeline` executable built next to the tests (or any other program, as a user would).</summary>
internal static class PipelineCli
{
    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args) => Run(TimeSpan.FromMinutes(5), args);

    /// <summary>Runs it and kills it (a TimeoutException) if it has not ended within <paramref name="timeout"/>.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(TimeSpan timeout, params string[] args) =>
        Program(Environment.CurrentDirectory, "dotnet", timeout, [Path.Combine(AppContext.BaseDirectory, "pipeline.dll"), .. args]);

    /// <summary>Runs it with extra environment variables (settings such as Limits__MaxObjectBytes).</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        Program(Environment.CurrentDirectory, "dotnet", TimeSpan.FromMinutes(5), environment, [Path.Combine(AppContext.BaseDirectory, "pipeline.dll"), .. args]);

    /// <summary>Runs <paramref name="fileName"/> in <paramref name="workingDirectory"/>; kills it after <paramref name="timeout"/>.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Program(string workingDirectory, string fileName, TimeSpan timeout, params string[] args) =>
        Program(workingDirectory, fileName, timeout, new Dictionary<string, string>(), args);

    private static (int ExitCode, string Stdout, string Stderr) Program(string workingDirectory, string fileName, TimeSpan timeout,
        IReadOnlyDictionary<string, string> environment, string[] args)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
        };
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        start.Environment["COLUMNS"] = "200"; // tables are not wrapped at 80 columns when output is redirected
        // A test host's MSBuild settings must not leak into a child build (the published-tool test runs dotnet publish).
        foreach (var name in new[] { "MSBuildExtensionsPath", "MSBUILD_EXE_PATH", "MSBuildSDKsPath" }) start.Environment.Remove(name);
        var (exitCode, stdout, stderr) = ExternalTool.Run(start, timeout);
        return (exitCode, stdout, stderr);
    }
}
