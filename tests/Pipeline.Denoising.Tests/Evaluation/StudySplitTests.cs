using Pipeline.Denoising.Evaluation;

namespace Pipeline.Denoising.Tests.Evaluation;

public sealed class StudySplitTests
{
    /// <summary>
    /// The split is a fixed function of the Study Instance UID, so a study once held out stays held out on every night and
    /// machine. Positions computed independently with Python's hashlib: first 8 bytes of SHA-256("pipeline-study-split|" +
    /// UID), big-endian, over 2^64 (.3: 0.061, .5: 0.255, .0: 0.428, .1: 0.646, .9: 0.966).
    /// </summary>
    [Theory]
    [InlineData("1.2.826.0.1.3680043.8.498.3", true)]
    [InlineData("1.2.826.0.1.3680043.8.498.5", false)]
    [InlineData("1.2.826.0.1.3680043.8.498.0", false)]
    [InlineData("1.2.826.0.1.3680043.8.498.1", false)]
    [InlineData("1.2.826.0.1.3680043.8.498.9", false)]
    public void Requirement_a_study_is_held_out_by_a_stable_hash_of_its_uid(string uid, bool heldOutAtDefault)
    {
        Assert.Equal(heldOutAtDefault, StudySplit.IsHeldOut(uid));
        Assert.False(StudySplit.IsHeldOut(uid, 0));
        Assert.True(StudySplit.IsHeldOut(uid, 1));
    }

    [Fact]
    public void Requirement_the_held_out_share_of_many_studies_is_the_configured_fraction()
    {
        var held = Enumerable.Range(0, 4000).Count(i => StudySplit.IsHeldOut($"2.25.{i}", 0.2));
        Assert.InRange(held / 4000.0, 0.18, 0.22);
    }
}
