using Pipeline.Contracts;
using Pipeline.Ingest.Series;

namespace Pipeline.Ingest.Tests;

public sealed class SeriesAssemblerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 1, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(60);

    private static InstanceHeader Instance(string key, double? position, int? number = null, string series = "1.2.3.4", string? notDenoisable = null) =>
        new(new ObjectRef("incoming", key), "1.2.3", series, "sop:" + key, "MR", number, position, 16, notDenoisable);

    [Fact]
    public void A_series_is_due_only_after_a_quiet_period_since_its_last_new_instance()
    {
        var assembler = new SeriesAssembler(Quiet);
        assembler.ObserveInstance(Instance("s/b.dcm", 2.5), "e1", T0);
        assembler.ObserveInstance(Instance("s/a.dcm", -1.0), "e2", T0.AddSeconds(10));

        Assert.Empty(assembler.Due(T0.AddSeconds(69)));
        var due = Assert.Single(assembler.Due(T0.AddSeconds(70)));

        Assert.Equal(["s/a.dcm", "s/b.dcm"], due.Instances.Select(i => i.Object.Key)); // by slice position, not arrival
        Assert.Equal(1, due.Revision);
        Assert.Equal(T0.AddSeconds(70), assembler.NextQuietDeadline());
    }

    [Fact]
    public void Forgetting_published_series_keeps_only_the_unpublished_ones_so_a_batch_holds_one_study_folder_at_a_time()
    {
        var assembler = new SeriesAssembler(TimeSpan.Zero);
        assembler.ObserveInstance(Instance("a/1.dcm", 0, series: "1.2.3.4"), "e1", T0);
        assembler.MarkPublished(Assert.Single(assembler.Due(T0)));
        assembler.ObserveInstance(Instance("b/1.dcm", 0, series: "1.2.3.5"), "e2", T0);

        assembler.ForgetPublished();

        Assert.Equal(1, assembler.SeriesCount);
        Assert.False(assembler.HasSeen(new ObjectRef("incoming", "a/1.dcm"), "e1"));
        Assert.Equal("1.2.3.5", Assert.Single(assembler.Due(T0)).Key.SeriesInstanceUid);
    }

    [Fact]
    public void A_duplicate_event_for_the_same_object_and_etag_changes_nothing()
    {
        var assembler = new SeriesAssembler(Quiet);
        Assert.True(assembler.ObserveInstance(Instance("s/a.dcm", 0), "e1", T0));

        Assert.False(assembler.ObserveInstance(Instance("s/a.dcm", 0), "e1", T0.AddSeconds(50)));
        Assert.Single(assembler.Due(T0.AddSeconds(60))); // the duplicate did not restart the quiet period
    }

    [Fact]
    public void A_manifest_listing_the_expected_objects_completes_the_series_exactly_when_the_last_one_is_seen()
    {
        var assembler = new SeriesAssembler(Quiet);
        assembler.ObserveMarker("incoming", "study/", ["study/1.dcm", "study/2.dcm", "study/notes.txt"]);
        assembler.ObserveInstance(Instance("study/1.dcm", 0), "e1", T0);
        assembler.ObserveInstance(Instance("study/2.dcm", 1), "e2", T0);

        Assert.Empty(assembler.Due(T0.AddSeconds(1)));

        assembler.ObserveFailed(new ObjectRef("incoming", "study/notes.txt"), "e3"); // failures count as seen
        Assert.Single(assembler.Due(T0.AddSeconds(1)));
    }

    [Fact]
    public void A_marker_without_a_list_completes_every_series_under_its_folder_at_once_but_not_others()
    {
        var assembler = new SeriesAssembler(Quiet);
        assembler.ObserveInstance(Instance("study/a/1.dcm", 0, series: "1.1"), "e1", T0);
        assembler.ObserveInstance(Instance("study/b/1.dcm", 0, series: "1.2"), "e2", T0);
        assembler.ObserveInstance(Instance("other/1.dcm", 0, series: "1.3"), "e3", T0);

        assembler.ObserveMarker("incoming", "study/", expectedKeys: null);

        Assert.Equal(["1.1", "1.2"], assembler.Due(T0).Select(s => s.Key.SeriesInstanceUid).Order());
    }

    [Fact]
    public void A_late_instance_reopens_a_published_series_as_the_next_revision_after_a_quiet_period()
    {
        var assembler = new SeriesAssembler(Quiet);
        assembler.ObserveMarker("incoming", "s/", expectedKeys: null);
        assembler.ObserveInstance(Instance("s/1.dcm", 0), "e1", T0);
        var first = Assert.Single(assembler.Due(T0));
        assembler.MarkPublished(first);
        Assert.Empty(assembler.Due(T0.AddHours(1)));

        assembler.ObserveInstance(Instance("s/2.dcm", 1), "e2", T0.AddHours(1));

        Assert.Empty(assembler.Due(T0.AddHours(1).AddSeconds(30)));
        var second = Assert.Single(assembler.Due(T0.AddHours(1).AddSeconds(60)));
        Assert.Equal(2, second.Revision);
        Assert.Equal(2, second.Instances.Count);
    }

    [Fact]
    public void A_re_upload_of_an_instance_with_new_content_reopens_the_series()
    {
        var assembler = new SeriesAssembler(Quiet);
        assembler.ObserveInstance(Instance("s/1.dcm", 0), "e1", T0);
        assembler.MarkPublished(Assert.Single(assembler.Due(T0.AddMinutes(1))));

        Assert.True(assembler.ObserveInstance(Instance("s/1.dcm", 0), "e1-new", T0.AddMinutes(5)));

        Assert.Equal(2, Assert.Single(assembler.Due(T0.AddMinutes(6))).Revision);
    }

    [Fact]
    public void Without_geometry_instances_are_ordered_by_instance_number_and_undenoisable_ones_are_kept_apart()
    {
        var assembler = new SeriesAssembler(Quiet);
        assembler.ObserveInstance(Instance("s/x.dcm", null, number: 3), "e1", T0);
        assembler.ObserveInstance(Instance("s/y.dcm", 5.0, number: 1), "e2", T0);
        assembler.ObserveInstance(Instance("s/z.dcm", null, number: 2, notDenoisable: "colour (RGB) image"), "e3", T0);

        var due = Assert.Single(assembler.Due(T0.AddMinutes(1)));

        Assert.Equal(["s/y.dcm", "s/x.dcm"], due.Instances.Select(i => i.Object.Key));
        Assert.Equal("colour (RGB) image", Assert.Single(due.NotDenoisable).NotDenoisableReason);
    }

    /// <summary>
    /// One SOP Instance UID is one instance (and one output key): of objects sharing one, the first in key order is kept
    /// whatever order they arrived in, and the others are reported as duplicates naming it.
    /// </summary>
    [Fact]
    public void Of_objects_sharing_a_sop_instance_uid_the_first_in_key_order_is_kept_and_the_others_are_duplicates()
    {
        var assembler = new SeriesAssembler(Quiet);
        assembler.ObserveInstance(Instance("s/c.dcm", 0) with { SopInstanceUid = "1.9" }, "e1", T0);
        assembler.ObserveInstance(Instance("s/b.dcm", 1), "e2", T0);
        assembler.ObserveInstance(Instance("s/a.dcm", 2) with { SopInstanceUid = "1.9" }, "e3", T0);

        var due = Assert.Single(assembler.Due(T0.AddMinutes(1)));

        Assert.Equal(["s/b.dcm", "s/a.dcm"], due.Instances.Select(i => i.Object.Key));
        var duplicate = Assert.Single(due.Duplicates);
        Assert.Equal(("s/c.dcm", "s/a.dcm"), (duplicate.Instance.Object.Key, duplicate.Kept.Key));
        Assert.Contains("duplicate SOP Instance UID 1.9", duplicate.Reason, StringComparison.Ordinal);
    }
}
