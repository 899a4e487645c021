using System.Net;
using Minio;
using Minio.DataModel.Args;
using Pipeline.Storage;
using Pipeline.Storage.S3;
using Pipeline.Storage.Tests;

namespace Pipeline.IntegrationTests.Storage;

/// <summary>The storage contract against a real S3 server (s3rver) through the Minio SDK.</summary>
[Collection(TestServersCollection.Name)]
public sealed class S3ObjectStoreContract(TestServers servers) : ObjectStoreContract, IDisposable
{
    private readonly S3ObjectStore _store = new(servers.S3);

    protected override IObjectStore Store => _store;

    /// <summary>
    /// S3 makes a PUT all-or-nothing, and resumed jobs rely on it (an object that exists is whole): a writer that
    /// dies mid-body (a killed worker) must leave no torn object behind, and the earlier version must stay intact.
    /// </summary>
    [Fact]
    public async Task An_upload_cut_off_mid_body_leaves_the_earlier_object_whole()
    {
        var bucket = $"torn-{Guid.NewGuid():N}"[..20];
        await _store.EnsureBucketAsync(bucket);
        var earlier = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        await _store.PutBytesAsync(bucket, "derived.dcm", earlier);

        using var minio = new MinioClient().WithEndpoint(servers.S3.Endpoint).WithCredentials(servers.S3.AccessKey, servers.S3.SecretKey)
            .WithRegion(servers.S3.Region).WithSSL(servers.S3.UseTls).Build();
        var url = await minio.PresignedPutObjectAsync(new PresignedPutObjectArgs().WithBucket(bucket).WithObject("derived.dcm").WithExpiry(60));
        using var http = new HttpClient();
        using var content = new StreamContent(new DiesMidway(sent: 64 * 1024));
        content.Headers.ContentLength = 256 * 1024;
        var cutOff = await Assert.ThrowsAnyAsync<Exception>(() => http.PutAsync(url, content));
        Assert.IsType<IOException>(cutOff.InnerException ?? cutOff, exactMatch: false);

        // The server sees the connection drop after it received part of the body; give it time to (wrongly) commit.
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(earlier, await _store.GetBytesAsync(bucket, "derived.dcm"));
        Assert.Equal([earlier.Length], await _store.ListAsync(bucket, "").Select(o => o.Size).ToArrayAsync());
    }

    public void Dispose() => _store.Dispose();

    /// <summary>A request body that yields <c>sent</c> bytes and then fails, as a process killed mid-upload does.</summary>
    private sealed class DiesMidway(int sent) : Stream
    {
        private int _left = sent;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_left == 0) throw new IOException("the writer died mid-body");
            var n = Math.Min(count, _left);
            Array.Fill(buffer, (byte)0xAB, offset, n);
            _left -= n;
            return n;
        }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
