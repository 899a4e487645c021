using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Pipeline.Hosting;

/// <summary>
/// How long the system keeps what it made, configuration section "Retention". Inputs are never deleted: no sweep reads
/// the input bucket. Ages count from an object's last write (a failure record's last failure or retry mark).
/// </summary>
public sealed class RetentionOptions
{
    public const string Section = "Retention";

    /// <summary>Time between two sweeps.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Failure records are deleted this long after they were last written (open or resolved).</summary>
    [Range(typeof(TimeSpan), "01:00:00", "3650.00:00:00")]
    public TimeSpan FailureRecords { get; set; } = TimeSpan.FromDays(90);

    /// <summary>
    /// Derived instances of a revision older than the one the completion marker names (left by a worker that died between
    /// the marker and its own clean-up) are deleted this long after they were written: readers of the old revision finish first.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00")]
    public TimeSpan SupersededRevisions { get; set; } = TimeSpan.FromDays(1);

    /// <summary>A model version in a worker's local cache that no job opened for this long is deleted (fetched again, verified, when needed).</summary>
    [Range(typeof(TimeSpan), "01:00:00", "3650.00:00:00")]
    public TimeSpan ModelCache { get; set; } = TimeSpan.FromDays(30);
}

/// <summary>One kind of housekeeping, run by the host's housekeeping service at every sweep; registered by the service that owns the data.</summary>
public interface IRetentionSweep
{
    /// <summary>Deletes what is past its lifetime at <paramref name="now"/>; returns how many objects or folders were deleted.</summary>
    Task<int> SweepAsync(RetentionOptions options, DateTimeOffset now, CancellationToken ct);
}

public static class RetentionRegistration
{
    /// <summary>Adds <typeparamref name="TSweep"/> to the host's housekeeping service (one service per host, whatever the number of sweeps).</summary>
    public static IHostApplicationBuilder AddRetention<TSweep>(this IHostApplicationBuilder builder)
        where TSweep : class, IRetentionSweep
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!builder.Services.Any(d => d.ServiceType == typeof(IValidateOptions<RetentionOptions>)))
        {
            builder.AddValidatedOptions<RetentionOptions>(RetentionOptions.Section);
            builder.Services.TryAddSingleton(TimeProvider.System);
            builder.Services.AddHostedService<Housekeeping>();
        }
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IRetentionSweep, TSweep>());
        return builder;
    }
}

/// <summary>Runs every registered <see cref="IRetentionSweep"/> at start and then every <see cref="RetentionOptions.Interval"/>.</summary>
internal sealed partial class Housekeeping(
    IEnumerable<IRetentionSweep> sweeps,
    IOptions<RetentionOptions> options,
    TimeProvider clock,
    ILogger<Housekeeping> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Interval, clock);
        do
        {
            foreach (var sweep in sweeps)
            {
                try
                {
                    var deleted = await sweep.SweepAsync(options.Value, clock.GetUtcNow(), stoppingToken);
                    if (deleted > 0) LogSwept(logger, sweep.GetType().Name, deleted);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogSweepFailed(logger, sweep.GetType().Name, e); // the next sweep tries again
                }
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(110, LogLevel.Information, "Retention sweep {Sweep}: {Deleted} deleted")]
    private static partial void LogSwept(ILogger logger, string sweep, int deleted);

    [LoggerMessage(111, LogLevel.Warning, "Retention sweep {Sweep} failed; the next sweep tries again")]
    private static partial void LogSweepFailed(ILogger logger, string sweep, Exception exception);
}
