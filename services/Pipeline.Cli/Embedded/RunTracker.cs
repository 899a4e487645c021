using System.Collections.Concurrent;
using MassTransit;
using Pipeline.Contracts;

namespace Pipeline.Cli.Embedded;

/// <summary>What the embedded run has seen on the bus: jobs, finished series, failures.</summary>
internal sealed class RunProgress
{
    private readonly ConcurrentDictionary<string, DenoiseSeries> _jobs = new();
    private readonly ConcurrentDictionary<string, bool> _finished = new();
    private int _instancesDone;
    private int _jobsPublished = -1;
    private int _failures;

    public int Jobs => _jobs.Count;
    public int InstancesTotal => _jobs.Values.Sum(j => j.Instances.Count);
    public int Finished => _finished.Count;
    public int InstancesDone => _instancesDone;
    public int Failures => _failures;

    /// <summary>Raised (on a bus thread) whenever something changed.</summary>
    public event Action? Changed;

    public void JobSeen(DenoiseSeries job) { _jobs[Key(job.StudyInstanceUid, job.SeriesInstanceUid)] = job; Changed?.Invoke(); }

    public void InstancesDenoised(int count) { Interlocked.Add(ref _instancesDone, count); Changed?.Invoke(); }

    public void SeriesFinished(string study, string series) { _finished[Key(study, series)] = true; Changed?.Invoke(); }

    public void Failed() { Interlocked.Increment(ref _failures); Changed?.Invoke(); }

    /// <summary>Ingest has listed the whole input and published its jobs, every one of them has been seen, and each has
    /// ended (evaluated, not denoisable, or faulted).</summary>
    public bool AllDone => Volatile.Read(ref _jobsPublished) is var published and >= 0
        && _jobs.Count >= published && _jobs.Keys.All(_finished.ContainsKey);

    public void IngestPassed(IngestPassCompleted pass) { Interlocked.Exchange(ref _jobsPublished, pass.JobsPublished); Changed?.Invoke(); }

    private static string Key(string study, string series) => study + "/" + series;
}

/// <summary>
/// Listens to the pipeline's own messages on its own queue (a copy of each publish, never competing
/// with the services) so the embedded run knows when ingest has published everything and every job has ended.
/// </summary>
internal sealed class RunTracker(RunProgress progress) :
    IConsumer<IngestPassCompleted>, IConsumer<DenoiseSeries>, IConsumer<SeriesDenoised>, IConsumer<EvaluationCompleted>, IConsumer<SeriesNotDenoisable>,
    IConsumer<InstanceFailed>, IConsumer<Fault<DenoiseSeries>>, IConsumer<Fault<SeriesDenoised>>
{
    public Task Consume(ConsumeContext<IngestPassCompleted> context)
    {
        progress.IngestPassed(context.Message);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<DenoiseSeries> context)
    {
        progress.JobSeen(context.Message);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<SeriesDenoised> context)
    {
        progress.InstancesDenoised(context.Message.Instances.Count);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<EvaluationCompleted> context)
    {
        if (context.Message is { StudyInstanceUid: { } study, SeriesInstanceUid: { } series })
            progress.SeriesFinished(study, series);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<SeriesNotDenoisable> context)
    {
        progress.SeriesFinished(context.Message.StudyInstanceUid, context.Message.SeriesInstanceUid);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<InstanceFailed> context)
    {
        progress.Failed();
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<Fault<DenoiseSeries>> context)
    {
        progress.SeriesFinished(context.Message.Message.StudyInstanceUid, context.Message.Message.SeriesInstanceUid);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<Fault<SeriesDenoised>> context)
    {
        progress.SeriesFinished(context.Message.Message.StudyInstanceUid, context.Message.Message.SourceSeriesInstanceUid);
        return Task.CompletedTask;
    }
}
