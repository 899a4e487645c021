using System.Text;
using Pipeline.Ingest.Notifications;

namespace Pipeline.Ingest.Tests;

public sealed class ObjectCreatedEventTests
{
    // Shape of a MinIO AMQP notification record (S3 event message structure, version 2.0).
    private const string MinioPut = """
        {"EventName":"s3:ObjectCreated:Put","Key":"incoming/study%201/ser+a/IM%2B1.dcm","Records":[
          {"eventVersion":"2.0","eventSource":"minio:s3","awsRegion":"","eventTime":"2026-11-25T01:02:03.000Z",
           "eventName":"s3:ObjectCreated:Put","userIdentity":{"principalId":"pipeline"},
           "s3":{"s3SchemaVersion":"1.0","configurationId":"Config",
                 "bucket":{"name":"incoming","ownerIdentity":{"principalId":"pipeline"},"arn":"arn:aws:s3:::incoming"},
                 "object":{"key":"study%201/ser+a/IM%2B1.dcm","size":528384,"eTag":"5d41402abc4b2a76b9719d911017c592",
                           "contentType":"application/dicom","sequencer":"187A0B5C3D2E1F00"}}}]}
        """;

    [Fact]
    public void A_MinIO_put_event_yields_the_bucket_and_the_url_decoded_key()
    {
        var events = ObjectCreatedEvent.Parse(Encoding.UTF8.GetBytes(MinioPut));

        var created = Assert.Single(events);
        Assert.Equal("incoming", created.Object.Bucket);
        Assert.Equal("study 1/ser a/IM+1.dcm", created.Object.Key);
        Assert.Equal(528384, created.Size);
        Assert.Equal("5d41402abc4b2a76b9719d911017c592", created.ETag);
    }

    [Fact]
    public void Removal_records_are_ignored_and_AWS_style_names_without_prefix_are_accepted()
    {
        const string json = """
            {"Records":[
              {"eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"incoming"},"object":{"key":"a.dcm"}}},
              {"eventName":"ObjectCreated:CompleteMultipartUpload","s3":{"bucket":{"name":"incoming"},"object":{"key":"b.dcm"}}}]}
            """;

        var events = ObjectCreatedEvent.Parse(Encoding.UTF8.GetBytes(json));

        Assert.Equal(["b.dcm"], events.Select(e => e.Object.Key));
        Assert.Null(events[0].Size);
    }

    [Theory]
    [InlineData("not json", "not JSON")]
    [InlineData("{\"foo\":1}", "no \"Records\" array")]
    [InlineData("{\"Records\":[{\"eventName\":\"s3:ObjectCreated:Put\",\"s3\":{}}]}", "lacks s3.bucket.name")]
    public void A_body_that_is_not_an_S3_event_is_refused_with_a_specific_reason(string body, string reason)
    {
        var error = Assert.Throws<FormatException>(() => ObjectCreatedEvent.Parse(Encoding.UTF8.GetBytes(body)));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }
}
