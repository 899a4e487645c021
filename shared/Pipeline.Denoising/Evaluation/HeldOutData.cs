namespace Pipeline.Denoising.Evaluation;

/// <summary>
/// Data reserved for independent checks of generalisation: mricron-data's inia19 files (another subject and scanner).
/// Nothing here may read them: no training, validation, tuning or protocol run.
/// </summary>
public static class HeldOutData
{
    /// <summary>Throws when <paramref name="path"/> (any component of it) names an inia19 file or folder.</summary>
    public static void Refuse(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Split('/', '\\').Any(part => part.StartsWith("inia19", StringComparison.OrdinalIgnoreCase)))
            throw new ArgumentException($"'{path}': inia19 is held out for independent checks; it is never read, trained, validated or tuned on.");
    }
}
