using System.Text;
using Pipeline.Denoising.Export;

namespace Pipeline.Denoising.Tests.Export;

public sealed class SafetensorsTests
{
    private static byte[] File(string header, params float[] values)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + values.Length * 4];
        BitConverter.GetBytes((ulong)json.Length).CopyTo(bytes, 0);
        json.CopyTo(bytes, 8);
        for (var i = 0; i < values.Length; i++)
            BitConverter.GetBytes(values[i]).CopyTo(bytes, 8 + json.Length + i * 4);
        return bytes;
    }

    [Fact]
    public void Reads_shapes_and_values_at_their_offsets_and_skips_metadata()
    {
        var file = File("""{"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""",
            1, 2, 3, 4, 5, 6);

        var tensors = Safetensors.Read(file);

        Assert.Equal(2, tensors.Count);
        Assert.Equal([2L, 2], tensors["w"].Shape);
        Assert.Equal([1f, 2, 3, 4], tensors["w"].Values);
        Assert.Equal([5f, 6], tensors["b"].Values);
    }

    [Fact]
    public void Refuses_other_dtypes_and_offsets_past_the_end()
    {
        Assert.Throws<InvalidDataException>(() => Safetensors.Read(File("""{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}""", 1)));
        Assert.Throws<InvalidDataException>(() => Safetensors.Read(File("""{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", 1)));
    }
}
