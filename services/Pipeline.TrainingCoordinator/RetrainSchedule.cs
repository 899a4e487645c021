using Cronos;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Contracts;

namespace Pipeline.TrainingCoordinator;

/// <summary>
/// The nightly run: at each occurrence of <see cref="CoordinatorOptions.Schedule"/> publishes a RetrainRequested (trigger
/// "schedule"), handled like any other request. Several coordinators each publish one; the lease lets one train and the
/// others are recorded as skipped.
/// </summary>
internal sealed partial class RetrainSchedule(IBus bus, IOptions<CoordinatorOptions> options, TimeProvider clock, ILogger<RetrainSchedule> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (string.IsNullOrWhiteSpace(options.Value.Schedule)) return;
        var cron = CronExpression.Parse(options.Value.Schedule);
        var zone = TimeZoneInfo.FindSystemTimeZoneById(options.Value.TimeZone);
        while (cron.GetNextOccurrence(clock.GetUtcNow(), zone) is { } next)
        {
            LogNext(logger, next);
            try
            {
                // Task.Delay takes at most ~49 days: wait in steps, checking the time again after each.
                while (next - clock.GetUtcNow() is var left && left > TimeSpan.Zero)
                    await Task.Delay(left < TimeSpan.FromDays(1) ? left : TimeSpan.FromDays(1), clock, stoppingToken);
                await bus.Publish(new RetrainRequested(NewId.NextGuid(), RetrainRequested.OnSchedule), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(4030, LogLevel.Information, "Next scheduled training run at {Next:u}")]
    private static partial void LogNext(ILogger logger, DateTimeOffset next);
}
