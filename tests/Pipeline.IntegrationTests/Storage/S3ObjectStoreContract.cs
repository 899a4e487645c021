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

    public void Dispose() => _store.Dispose();
}
