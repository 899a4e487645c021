namespace Pipeline.Denoising.Evaluation;

/// <summary>
/// Data reserved for independent checks of generalisation: mricron-data's inia19 files (another subject and scanner).
/// Nothing here may read them: no training, validation, tuning or protocol run.
/// </summary>
public static class HeldOutData
{
    /// <summary>True when <paramref name="pathOrKey"/> (a path or an object key: any component of it) names an inia19 file or folder.</summary>
    public static bool IsHeldOut(string pathOrKey)
    {
        ArgumentNullException.ThrowIfNull(pathOrKey);
        return pathOrKey.Split('/', '\\').Any(part => part.StartsWith("inia19", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Throws when <paramref name="path"/> is held out (<see cref="IsHeldOut"/>).</summary>
    public static void Refuse(string path)
    {
        if (IsHeldOut(path))
            throw new ArgumentException($"'{path}': inia19 is held out for independent checks; it is never read, trained, validated or tuned on.");
    }
}
