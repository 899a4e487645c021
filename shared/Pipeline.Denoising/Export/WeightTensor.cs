namespace Pipeline.Denoising.Export;

/// <summary>A float32 parameter by shape and row-major values (a state-dict entry without libtorch).</summary>
public sealed record WeightTensor(long[] Shape, float[] Values)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}
