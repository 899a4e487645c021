namespace Pipeline.Contracts;

/// <summary>A reference to one object in the object store; messages carry these, never payloads.</summary>
/// <param name="Bucket">Bucket name (in embedded mode: a subfolder of the local store root).</param>
/// <param name="Key">Object key inside the bucket, '/'-separated, no leading slash.</param>
public sealed record ObjectRef(string Bucket, string Key)
{
    public override string ToString() => $"{Bucket}/{Key}";
}
