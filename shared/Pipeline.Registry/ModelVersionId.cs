namespace Pipeline.Registry;

/// <summary>
/// A model version as jobs, markers and output keys name it: "{model name}/{version}", e.g.
/// "denoiser/1". The name picks the registry folder, the version one immutable set of files.
/// </summary>
public readonly record struct ModelVersionId(string Name, string Version)
{
    public static ModelVersionId Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var parts = value.Split('/');
        if (parts.Length != 2 || parts.Any(p => p.Length == 0 || p is "." or ".."))
            throw new FormatException($"'{value}' is not a model version: expected \"{{model name}}/{{version}}\", e.g. \"denoiser/1\".");
        return new ModelVersionId(parts[0], parts[1]);
    }

    public override string ToString() => $"{Name}/{Version}";
}
