using Microsoft.Extensions.Logging.Testing;
using Pipeline.Denoising.Architectures;
using Pipeline.Denoising.Export;
using Pipeline.Denoising.Inference;

namespace Pipeline.Denoising.Tests.Inference;

public sealed class EngineLogTests
{
    [Fact]
    public void A_started_engine_logs_event_401_with_engine_device_and_architecture()
    {
        var spec = ArchitectureSpec.ResidualDenoiser(depth: 2, width: 2);
        var weights = spec.Layers().SelectMany(l => new[]
        {
            KeyValuePair.Create(l.Name + ".weight", new WeightTensor([l.OutChannels, l.InChannels, 3, 3], new float[l.OutChannels * l.InChannels * 9])),
            KeyValuePair.Create(l.Name + ".bias", new WeightTensor([l.OutChannels], new float[l.OutChannels])),
        }).ToDictionary();
        var logger = new FakeLogger();

        using var engine = new OnnxRuntimeEngine(OnnxExporter.Export(spec, weights), spec,
            new EngineOptions { Threads = 1, Device = DevicePreference.Cpu }, logger);

        var record = Assert.Single(logger.Collector.GetSnapshot());
        Assert.Equal(401, record.Id.Id);
        Assert.Equal($"Denoising engine onnxruntime on cpu (1 threads), architecture {spec.Name}", record.Message);
    }
}
