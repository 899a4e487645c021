using System.Text.Json;

namespace Pipeline.Contracts.Tests;

public sealed class ContractShapeTests
{
    private static readonly Type[] Messages = typeof(IPipelineMessage).Assembly.GetExportedTypes()
        .Where(t => typeof(IPipelineMessage).IsAssignableFrom(t) && !t.IsInterface)
        .ToArray();

    [Fact]
    public void Every_message_lives_in_the_contracts_namespace_and_is_an_immutable_record()
    {
        Assert.Contains(typeof(DenoiseSeries), Messages);
        Assert.Contains(typeof(ModelVersionPublished), Messages);
        foreach (var type in Messages)
        {
            Assert.Equal("Pipeline.Contracts", type.Namespace);
            Assert.True(type.IsSealed, $"{type.Name} should be sealed");
            Assert.NotNull(type.GetMethod("<Clone>$")); // compiler-generated for records only
            Assert.All(type.GetProperties(), p => Assert.True(p.SetMethod is null || p.SetMethod.ReturnParameter.GetRequiredCustomModifiers().Any(m => m.Name == "IsExternalInit"),
                $"{type.Name}.{p.Name} must be init-only"));
        }
    }

    [Fact]
    public void Messages_carry_object_references_not_pixel_payloads()
    {
        foreach (var type in Messages)
            Assert.All(type.GetProperties(), p => Assert.False(p.PropertyType == typeof(byte[]) || p.PropertyType == typeof(float[]),
                $"{type.Name}.{p.Name} carries a payload"));
    }

    [Fact]
    public void A_job_survives_a_json_round_trip_with_its_instance_order_and_contract_version()
    {
        var job = new DenoiseSeries("1.2", "1.2.3",
            [new ObjectRef("incoming", "b/2.dcm"), new ObjectRef("incoming", "a/1.dcm")],
            "cdae/3", JobPriority.Bulk, "CT", Revision: 2);

        var json = JsonSerializer.Serialize(job);
        var back = JsonSerializer.Deserialize<DenoiseSeries>(json)!;

        Assert.Equal(["b/2.dcm", "a/1.dcm"], back.Instances.Select(i => i.Key));
        Assert.Equal(2, back.Revision);
        Assert.Equal(1, back.ContractVersion);
        Assert.Contains("\"ContractVersion\":1", json, StringComparison.Ordinal);
    }

    [Fact]
    public void An_object_reference_prints_as_bucket_slash_key()
    {
        Assert.Equal("denoised/studies/1/series.json", new ObjectRef("denoised", "studies/1/series.json").ToString());
    }
}

public sealed class BucketLayoutTests
{
    [Fact]
    public void Outputs_of_one_series_and_model_version_share_one_folder_and_the_marker_is_in_it()
    {
        var folder = BucketLayout.SeriesOutputFolder("1.2", "1.2.3", "cdae/1");

        Assert.Equal("studies/1.2/series/1.2.3/models/cdae/1/", folder);
        Assert.Equal(folder + "complete.json", BucketLayout.CompletionMarker("1.2", "1.2.3", "cdae/1"));
        Assert.Equal(folder + "instances/r2/2.25.99.dcm", BucketLayout.DerivedInstance("1.2", "1.2.3", "cdae/1", 2, "2.25.99"));
        Assert.NotEqual(folder, BucketLayout.SeriesOutputFolder("1.2", "1.2.3", "cdae/2"));
    }

    [Fact]
    public void A_failure_record_key_keeps_the_source_bucket_and_key()
    {
        Assert.Equal("failures/ingest/incoming/study 1/x.dcm.json",
            BucketLayout.FailureRecord(PipelineStage.Ingest, new ObjectRef("incoming", "study 1/x.dcm")));
    }

    [Fact]
    public void Markers_and_failure_records_are_recognised_among_listed_keys()
    {
        var marker = BucketLayout.CompletionMarker("1.2", "1.2.3", "cdae/1");
        var record = BucketLayout.FailureRecord(PipelineStage.Ingest, new ObjectRef("incoming", "study 1/complete"));

        Assert.True(BucketLayout.IsCompletionMarker(marker));
        Assert.True(BucketLayout.IsFailureRecord(record));
        Assert.False(BucketLayout.IsCompletionMarker(record)); // ends in "/complete.json" too, but is not under studies/
        Assert.False(BucketLayout.IsFailureRecord(marker));
        Assert.False(BucketLayout.IsCompletionMarker(BucketLayout.Report("1.2", "1.2.3", "cdae/1")));
    }
}
