using System.Runtime.InteropServices;
using Google.Protobuf;
using Pipeline.Denoising.Architectures;
using Pipeline.Denoising.Export.Onnx;

namespace Pipeline.Denoising.Export;

/// <summary>
/// Writes an ONNX model (opset 13; batch, height and width dynamic) for one of our architectures
/// from its weights. TorchSharp has no exporter, so the graph is spelled out here, op by op, from
/// the same <see cref="ArchitectureSpec"/> the TorchSharp modules are built from.
/// Input "input" [batch, 2k+1, height, width] float32; output "output" [batch, 1, height, width].
/// </summary>
public static class OnnxExporter
{
    public const string InputName = "input";
    public const string OutputName = "output";
    public const int Opset = 13;
    private const long IrVersion = 7; // the IR version that goes with opset 13

    public static byte[] Export(ArchitectureSpec spec, IReadOnlyDictionary<string, WeightTensor> weights,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(weights);
        var graph = new GraphBuilder($"{spec.Name}_denoiser");
        graph.Input(InputName, spec.InChannels);

        var layers = spec.Layers();
        WeightTensor Kernel(ConvLayer layer) => Weight(weights, layer.Name + ".weight", [layer.OutChannels, layer.InChannels, 3, 3]);
        WeightTensor Bias(ConvLayer layer) => Weight(weights, layer.Name + ".bias", [layer.OutChannels]);
        string Conv(string input, ConvLayer layer) => graph.Conv(input, layer, Kernel(layer), Bias(layer));
        string ConvRelu(string input, ConvLayer layer) => graph.Unary("Relu", Conv(input, layer));

        string x;
        if (spec.Name == ArchitectureSpec.Cdae)
        {
            // The TorchSharp Cdae module, except that the two convolutions of upsampled images run at the
            // lowest resolution on phase planes (PhaseConvolution): no upsampled tensor is ever made.
            x = graph.MaxPool2(ConvRelu(InputName, layers[0]));
            x = graph.MaxPool2(ConvRelu(x, layers[1]));
            x = ConvRelu(x, layers[2]);
            var planes = graph.ConvOfUpsampledByPhase(x, layers[3], Kernel(layers[3]), Bias(layers[3]), relu: true);
            x = graph.DepthToSpace(graph.ConvOfUpsampledPlanes(planes, layers[4], Kernel(layers[4]), Bias(layers[4])), 4);
            if (spec.Output == OutputActivation.Sigmoid)
                x = graph.Unary("Sigmoid", x);
        }
        else if (spec.Name == ArchitectureSpec.UNet)
        {
            // Encoder levels keep their features for the decoder's skip connections.
            var skips = new List<string>();
            x = InputName;
            var next = 0;
            for (var level = 0; level < spec.Depth; level++)
            {
                if (level > 0)
                    x = graph.MaxPool2(x);
                x = ConvRelu(ConvRelu(x, layers[next]), layers[next + 1]);
                next += 2;
                skips.Add(x);
            }
            for (var level = spec.Depth - 2; level >= 0; level--)
            {
                x = graph.Concat(graph.Upsample2(x), skips[level]);
                x = ConvRelu(ConvRelu(x, layers[next]), layers[next + 1]);
                next += 2;
            }
            x = Conv(x, layers[next]);
        }
        else
        {
            x = InputName;
            for (var i = 0; i < layers.Count; i++)
                x = i < layers.Count - 1 ? ConvRelu(x, layers[i]) : Conv(x, layers[i]);
        }
        if (spec.PredictsNoise)
        {
            // Residual learning: the network predicts the noise; output = centre slice - noise.
            var centre = spec.ContextSlices == 0 ? InputName : graph.ChannelSlice(InputName, spec.ContextSlices);
            x = graph.Binary("Sub", centre, x);
        }
        graph.Output(x);

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "Pipeline.Denoising",
            ProducerVersion = "1",
            Graph = graph.Graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return model.ToByteArray();
    }

    private static WeightTensor Weight(IReadOnlyDictionary<string, WeightTensor> weights, string name, long[] shape)
    {
        if (!weights.TryGetValue(name, out var w))
            throw new ArgumentException($"Weights lack '{name}'.");
        if (!w.Shape.SequenceEqual(shape) || w.Values.Length != w.ElementCount)
            throw new ArgumentException($"Weight '{name}' has shape [{string.Join(",", w.Shape)}], expected [{string.Join(",", shape)}].");
        return w;
    }

    /// <summary>Appends nodes with unique value names; keeps the op details in one place.</summary>
    private sealed class GraphBuilder(string name)
    {
        private int _next;

        public GraphProto Graph { get; } = new() { Name = name };

        public void Input(string inputName, int channels) =>
            Graph.Input.Add(ImageValue(inputName, new TensorShapeProto.Types.Dimension { DimValue = channels }));

        public void Output(string value)
        {
            // Rename the last value to the public output name with an Identity (keeps names stable).
            Graph.Node.Add(Node("Identity", [value], OutputName));
            Graph.Output.Add(ImageValue(OutputName, new TensorShapeProto.Types.Dimension { DimValue = 1 }));
        }

        public string Conv(string x, ConvLayer layer, WeightTensor weight, WeightTensor bias) =>
            Conv(x, layer.Name, weight, bias, [1, 1, 1, 1]);

        /// <summary>A convolution with the kernel size of its weight and pads [top, left, bottom, right].</summary>
        private string Conv(string x, string weightName, WeightTensor weight, WeightTensor? bias, long[] pads)
        {
            var w = Initializer(weightName + ".weight", weight.Shape, weight.Values);
            var node = Node("Conv", bias is null ? [x, w] : [x, w, Initializer(weightName + ".bias", bias.Shape, bias.Values)], out var y);
            node.Attribute.Add(Ints("kernel_shape", weight.Shape[2], weight.Shape[3]));
            node.Attribute.Add(Ints("pads", pads));
            node.Attribute.Add(Ints("strides", 1, 1));
            node.Attribute.Add(Ints("dilations", 1, 1));
            node.Attribute.Add(new AttributeProto { Name = "group", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
            Graph.Node.Add(node);
            return y;
        }

        public string Unary(string op, string x)
        {
            Graph.Node.Add(Node(op, [x], out var y));
            return y;
        }

        public string Binary(string op, string a, string b)
        {
            Graph.Node.Add(Node(op, [a, b], out var y));
            return y;
        }

        public string MaxPool2(string x)
        {
            var node = Node("MaxPool", [x], out var y);
            node.Attribute.Add(Ints("kernel_shape", 2, 2));
            node.Attribute.Add(Ints("strides", 2, 2));
            Graph.Node.Add(node);
            return y;
        }

        /// <summary>Nearest x2, identical to torch's nearest interpolation (asymmetric, floor).</summary>
        public string Upsample2(string x)
        {
            var scales = Initializer(Fresh("scales"), [4], [1f, 1f, 2f, 2f]);
            var node = Node("Resize", [x, "", scales], out var y);
            node.Attribute.Add(Str("mode", "nearest"));
            node.Attribute.Add(Str("coordinate_transformation_mode", "asymmetric"));
            node.Attribute.Add(Str("nearest_mode", "floor"));
            Graph.Node.Add(node);
            return y;
        }

        /// <summary>
        /// Conv3x3 (pad 1) of the nearest x2 upsampling of x, as four 2x2 convolutions of x, one per output
        /// phase (<see cref="PhaseConvolution"/>; 4/9 of the multiply-adds): the output's 2x2 phase planes, row-major.
        /// </summary>
        public IReadOnlyList<string> ConvOfUpsampledByPhase(string x, ConvLayer layer, WeightTensor weight, WeightTensor bias, bool relu)
        {
            var kernel = PhaseConvolution.UpsampledKernel(weight, bias, 1);
            var planes = new List<string>();
            foreach (var (w, b, pads) in PhaseConvolution.SplitByOutputPhase(kernel.Weight, kernel.Bias))
            {
                var y = Conv(x, $"{layer.Name}.phase{planes.Count}", w, b, pads);
                planes.Add(relu ? Unary("Relu", y) : y);
            }
            return planes;
        }

        /// <summary>
        /// Conv3x3 (pad 1) of the nearest x2 upsampling of an image held as k x k phase planes (row-major), as
        /// one 2x2 convolution per plane, summed: the output's 2k x 2k phase planes in one tensor (DCR order).
        /// </summary>
        public string ConvOfUpsampledPlanes(IReadOnlyList<string> planes, ConvLayer layer, WeightTensor weight, WeightTensor bias)
        {
            var k = (int)Math.Sqrt(planes.Count);
            var kernel = PhaseConvolution.UpsampledKernel(weight, bias, k);
            var parts = PhaseConvolution.SplitByInputPlane(kernel.Weight, k).ToList();
            var sum = Conv(planes[0], $"{layer.Name}.plane0", parts[0].Weight, kernel.Bias, parts[0].Pads);
            for (var p = 1; p < parts.Count; p++)
                sum = Binary("Add", Conv(planes[p], $"{layer.Name}.plane{p}", parts[p].Weight, null, parts[p].Pads), sum);
            return sum;
        }

        /// <summary>Phase planes [batch, b^2 c, h, w] back to the image [batch, c, b h, b w].</summary>
        public string DepthToSpace(string x, int blockSize)
        {
            var node = Node("DepthToSpace", [x], out var y);
            node.Attribute.Add(new AttributeProto { Name = "blocksize", Type = AttributeProto.Types.AttributeType.Int, I = blockSize });
            node.Attribute.Add(Str("mode", "DCR"));
            Graph.Node.Add(node);
            return y;
        }

        /// <summary>Channel-wise concatenation of NCHW tensors, in order.</summary>
        public string Concat(params string[] inputs)
        {
            var node = Node("Concat", inputs, out var y);
            node.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
            Graph.Node.Add(node);
            return y;
        }

        /// <summary>Channel c of an NCHW tensor, kept as a 1-channel tensor.</summary>
        public string ChannelSlice(string x, int channel)
        {
            var starts = Int64Initializer(Fresh("starts"), channel);
            var ends = Int64Initializer(Fresh("ends"), channel + 1);
            var axes = Int64Initializer(Fresh("axes"), 1);
            Graph.Node.Add(Node("Slice", [x, starts, ends, axes], out var y));
            return y;
        }

        private string Fresh(string stem) => $"{stem}_{_next++}";

        private NodeProto Node(string op, string[] inputs, out string output)
        {
            output = Fresh(op.ToLowerInvariant());
            return Node(op, inputs, output);
        }

        private NodeProto Node(string op, string[] inputs, string output)
        {
            var node = new NodeProto { OpType = op, Name = $"{op}_{_next++}" };
            node.Input.Add(inputs);
            node.Output.Add(output);
            return node;
        }

        private string Initializer(string tensorName, long[] shape, float[] values)
        {
            var tensor = new TensorProto { Name = tensorName, DataType = (int)TensorProto.Types.DataType.Float };
            tensor.Dims.Add(shape);
            tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())); // little-endian host
            Graph.Initializer.Add(tensor);
            return tensorName;
        }

        private string Int64Initializer(string tensorName, long value)
        {
            var tensor = new TensorProto { Name = tensorName, DataType = (int)TensorProto.Types.DataType.Int64 };
            tensor.Dims.Add(1);
            tensor.Int64Data.Add(value);
            Graph.Initializer.Add(tensor);
            return tensorName;
        }

        private static AttributeProto Ints(string attributeName, params long[] values)
        {
            var a = new AttributeProto { Name = attributeName, Type = AttributeProto.Types.AttributeType.Ints };
            a.Ints.Add(values);
            return a;
        }

        private static AttributeProto Str(string attributeName, string value) =>
            new() { Name = attributeName, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

        private static ValueInfoProto ImageValue(string valueName, TensorShapeProto.Types.Dimension channels)
        {
            var shape = new TensorShapeProto();
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
            shape.Dim.Add(channels);
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "height" });
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "width" });
            return new ValueInfoProto
            {
                Name = valueName,
                Type = new TypeProto
                {
                    TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape },
                },
            };
        }
    }
}
