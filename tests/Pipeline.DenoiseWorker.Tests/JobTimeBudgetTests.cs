using System.Collections.Concurrent;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pipeline.Contracts;
using Pipeline.DenoiseWorker.Jobs;
using Pipeline.Storage;
using Pipeline.Storage.Local;

namespace Pipeline.DenoiseWorker.Tests;

/// <summary>
/// A job longer than DenoiseWorker:JobTimeBudget goes on in continuations (the same job published again); each
/// instance is denoised once across the deliveries and the result is byte-identical to one uninterrupted delivery.
/// </summary>
public sealed class JobTimeBudgetTests
{
    [Fact]
    public async Task A_series_denoised_in_several_time_budgets_gives_the_same_marker_instances_and_bytes_as_one_whole_run()
    {
        var (whole, _, wholeDeliveries, wholeNoise) = await RunAsync(budgeted: false);
        var (sliced, puts, slicedDeliveries, slicedNoise) = await RunAsync(budgeted: true);

        Assert.Equal(1, wholeDeliveries);
        // 16 slices, one per batch, one second per budget check and a 3.5 s budget: 4 slices per delivery.
        Assert.Equal(4, slicedDeliveries);
        Assert.Equal(whole.Keys, sliced.Keys);
        Assert.All(whole, w => Assert.Equal(w.Value, sliced[w.Key]));
        // The marker's noise figures too: those of sampled instances written by earlier deliveries come from their objects.
        Assert.Equal(wholeNoise, slicedNoise);
        // Each derived object written once: no delivery redid what an earlier one wrote.
        Assert.Equal(16, puts.Count);
        Assert.All(puts, p => Assert.Equal(1, p.Value));
    }

    /// <summary>Runs the job to its marker; returns the marker's derived objects (key to bytes, in marker order), the
    /// writes per derived key, the deliveries the job took and the marker's noise figures.</summary>
    private static async Task<(Dictionary<string, byte[]> Derived, ConcurrentDictionary<string, int> Puts, int Deliveries, IReadOnlyDictionary<string, double>? Noise)> RunAsync(bool budgeted)
    {
        var puts = new ConcurrentDictionary<string, int>();
        await using var w = await WorkerFixture.StartAsync(services =>
        {
            if (!budgeted) return;
            services.AddSingleton(Options.Create(new DenoiseWorkerOptions
            {
                Engine = new EngineSettings { Threads = 2 }, BatchSize = 1, JobTimeBudget = TimeSpan.FromSeconds(3.5),
            }));
            services.AddSingleton<TimeProvider>(new SecondPerReading());
            services.AddSingleton<IObjectStore>(sp => new CountingStore(sp.GetRequiredService<LocalFolderObjectStore>(), puts));
        });
        await w.RunAsync(w.Job());
        var deliveries = w.Harness.Consumed.Select<DenoiseSeries>().ToList();
        var marker = JsonSerializer.Deserialize<SeriesCompletion>(await w.Store.GetBytesAsync("denoised", w.MarkerKey()))!;
        Assert.Equal(w.Instances, marker.Instances.Select(i => i.Source));
        Assert.Empty(marker.FailedInstances);
        Assert.Equal(Enumerable.Range(0, deliveries.Count).Select(n => n == 0 ? null : (int?)n),
            deliveries.Select(d => d.Context.Headers.Get<int>(DenoiseSeriesConsumer.ContinuationHeader)).Order());
        var derived = new Dictionary<string, byte[]>();
        foreach (var i in marker.Instances)
            derived[i.Derived.Key] = await w.Store.GetBytesAsync("denoised", i.Derived.Key);
        return (derived, puts, deliveries.Count, marker.Metrics);
    }

    /// <summary>A clock that moves one second each time it is read, so the budget runs out after a known number of checks.</summary>
    private sealed class SecondPerReading : TimeProvider
    {
        private long _seconds;

        public override long TimestampFrequency => 1;

        public override long GetTimestamp() => Interlocked.Increment(ref _seconds);
    }

    /// <summary>The fixture's store, counting writes of derived instances.</summary>
    private sealed class CountingStore(IObjectStore inner, ConcurrentDictionary<string, int> puts) : IObjectStore
    {
        public Task EnsureBucketAsync(string bucket, CancellationToken cancellationToken = default) => inner.EnsureBucketAsync(bucket, cancellationToken);

        public Task PutAsync(string bucket, string key, Stream content, ObjectWriteOptions? options = null, CancellationToken cancellationToken = default)
        {
            if (key.EndsWith(".dcm", StringComparison.Ordinal)) puts.AddOrUpdate(key, 1, (_, n) => n + 1);
            return inner.PutAsync(bucket, key, content, options, cancellationToken);
        }

        public Task<Stream> OpenReadAsync(string bucket, string key, ByteRange? range = null, CancellationToken cancellationToken = default) =>
            inner.OpenReadAsync(bucket, key, range, cancellationToken);

        public Task<ObjectInfo?> TryStatAsync(string bucket, string key, CancellationToken cancellationToken = default) => inner.TryStatAsync(bucket, key, cancellationToken);

        public IAsyncEnumerable<ListedObject> ListAsync(string bucket, string prefix = "", CancellationToken cancellationToken = default) =>
            inner.ListAsync(bucket, prefix, cancellationToken);

        public Task DeleteAsync(string bucket, string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(bucket, key, cancellationToken);

        public Task CopyAsync(string sourceBucket, string sourceKey, string destinationBucket, string destinationKey, CancellationToken cancellationToken = default) =>
            inner.CopyAsync(sourceBucket, sourceKey, destinationBucket, destinationKey, cancellationToken);
    }
}
