using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Pipeline.Denoising.Export;

/// <summary>
/// Reads float32 safetensors state dicts (the format TorchSharp.PyBridge and PyTorch write):
/// an 8-byte little-endian header length, a JSON header of name -> dtype/shape/offsets, raw data.
/// Lets the exporter and the ONNX engine's tools work from weights without libtorch.
/// </summary>
public static class Safetensors
{
    public static IReadOnlyDictionary<string, WeightTensor> Read(string path) => Read(File.ReadAllBytes(path), path);

    public static IReadOnlyDictionary<string, WeightTensor> Read(byte[] file, string source = "safetensors")
    {
        if (file.Length < 8)
            throw new InvalidDataException($"{source}: too short for a safetensors file.");
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength > (ulong)(file.Length - 8))
            throw new InvalidDataException($"{source}: header length {headerLength} exceeds the file.");
        var dataStart = 8 + (int)headerLength;
        using var header = JsonDocument.Parse(file.AsMemory(8, (int)headerLength));
        var tensors = new Dictionary<string, WeightTensor>(StringComparer.Ordinal);
        foreach (var entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__")
                continue;
            var dtype = entry.Value.GetProperty("dtype").GetString();
            if (dtype != "F32")
                throw new InvalidDataException($"{source}: tensor '{entry.Name}' is {dtype}; only F32 is supported.");
            var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            var count = shape.Aggregate(1L, (a, b) => a * b);
            if (offsets.Length != 2 || offsets[1] - offsets[0] != count * 4 || dataStart + offsets[1] > file.Length)
                throw new InvalidDataException($"{source}: tensor '{entry.Name}' has inconsistent offsets.");
            var values = new float[count];
            var bytes = file.AsSpan(dataStart + (int)offsets[0], (int)(count * 4));
            if (BitConverter.IsLittleEndian)
                bytes.CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
            else
                for (var i = 0; i < count; i++)
                    values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * 4)..]);
            tensors[entry.Name] = new WeightTensor(shape, values);
        }
        return tensors;
    }
}
