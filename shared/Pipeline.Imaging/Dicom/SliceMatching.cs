namespace Pipeline.Imaging.Dicom;

/// <summary>One instance and the instance of the other series that shows the same slice.</summary>
/// <param name="Instance">Instance being matched.</param>
/// <param name="Partner">Its partner, or null when there is not exactly one.</param>
/// <param name="Problem">Why there is no partner (null when there is one).</param>
public sealed record SliceMatch(SeriesInstance Instance, SeriesInstance? Partner, string? Problem);

/// <summary>
/// How the instances of one series were paired with those of another series of the same anatomy (a clean reference
/// and a noisy copy, a source and its derived series): the one matching rule of the product, used for files on disk
/// and for objects in a bucket alike.
/// </summary>
/// <param name="Matches">One entry per instance of the first series, in its order.</param>
/// <param name="MatchedBy">"position" (along the slice normal) or "instance-number".</param>
public sealed record SliceMatching(IReadOnlyList<SliceMatch> Matches, string MatchedBy)
{
    /// <summary>
    /// Pairs each of <paramref name="instances"/> with the one of <paramref name="candidates"/> at the same slice position
    /// (within 1% of the smallest spacing of <paramref name="instances"/>, at most 0.01 mm) when every instance on both sides
    /// has Image Position/Orientation, else with the same Instance Number. An instance with no or several candidates gets
    /// a <see cref="SliceMatch.Problem"/> naming them <paramref name="candidatesName"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">Neither positions nor instance numbers exist on both sides.</exception>
    public static SliceMatching Match(IReadOnlyList<SeriesInstance> instances, IReadOnlyList<SeriesInstance> candidates, string candidatesName = "instances")
    {
        ArgumentNullException.ThrowIfNull(instances);
        ArgumentNullException.ThrowIfNull(candidates);
        if (instances.Concat(candidates).All(i => i.SlicePosition is not null))
        {
            var positions = instances.Select(i => i.SlicePosition!.Value).Order().ToArray();
            var spacing = positions.Length > 1 ? positions.Zip(positions.Skip(1), (a, b) => b - a).Where(d => d > 0).DefaultIfEmpty(1).Min() : 1;
            var tolerance = Math.Min(0.01, 0.01 * spacing);
            return new SliceMatching([.. instances.Select(i => Pick(i,
                candidates.Where(c => Math.Abs(c.SlicePosition!.Value - i.SlicePosition!.Value) <= tolerance),
                $"{candidatesName} at slice position {i.SlicePosition:0.###} mm"))], "position");
        }
        if (instances.Concat(candidates).All(i => i.InstanceNumber is not null))
        {
            return new SliceMatching([.. instances.Select(i => Pick(i,
                candidates.Where(c => c.InstanceNumber == i.InstanceNumber),
                $"{candidatesName} with instance number {i.InstanceNumber}"))], "instance-number");
        }
        throw new InvalidDataException("instances have neither Image Position/Orientation nor Instance Number on both sides: cannot match");
    }

    private static SliceMatch Pick(SeriesInstance instance, IEnumerable<SeriesInstance> found, string what)
    {
        var partners = found.Take(2).ToArray();
        return partners.Length == 1
            ? new SliceMatch(instance, partners[0], null)
            : new SliceMatch(instance, null, $"{(partners.Length == 0 ? "0" : "several")} {what} (need exactly 1)");
    }
}
