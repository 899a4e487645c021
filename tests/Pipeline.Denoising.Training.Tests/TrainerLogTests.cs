using Microsoft.Extensions.Logging.Testing;
using Pipeline.Denoising.Models;
using Pipeline.Denoising.Training.Training;
using static Pipeline.Denoising.Training.Tests.TrainerTests;

namespace Pipeline.Denoising.Training.Tests;

public sealed class TrainerLogTests
{
    [Fact]
    public void Validation_resuming_and_initial_weights_are_logged_with_their_event_ids()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"trainer-log-{Guid.NewGuid():N}");
        try
        {
            var (checkpoint, model) = (Path.Combine(folder, "checkpoint"), Path.Combine(folder, "model"));
            var logger = new FakeLogger();
            var options = Tiny(checkpoint, steps: 2) with { ValidateEvery = 2 };
            var first = new Trainer(options, [Phantom("a", 3, 1)], [Phantom("b", 2, 2)], logger).Train();
            var manifest = ModelWriter.Write(model, first, options, [new DataLineage("phantom", "", "train", 0, 2)]);
            new Trainer(options with { Steps = 4, InitialModel = model }, [Phantom("a", 3, 1)], [Phantom("b", 2, 2)], logger).Train();

            var records = logger.Collector.GetSnapshot();
            Assert.Equal([502, 503, 501, 502], records.Select(r => r.Id.Id));
            Assert.StartsWith("Step 2: validation PSNR ", records[0].Message);
            Assert.Equal($"Starting from the weights of model {manifest.Version} ({model})", records[1].Message);
            Assert.Equal($"Resuming training at step 2 from {checkpoint}", records[2].Message);
            Assert.Matches(@"^Step 4: validation PSNR \d+\.\d\d dB, SSIM \d\.\d{4} \(noisy \d+\.\d\d dB\)$", records[3].Message);
        }
        finally
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }
}
