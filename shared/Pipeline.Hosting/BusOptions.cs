using System.ComponentModel.DataAnnotations;

namespace Pipeline.Hosting;

/// <summary>Which message transport the services use.</summary>
public enum BusTransport
{
    /// <summary>Distributed mode: a RabbitMQ broker.</summary>
    RabbitMq,
    /// <summary>Embedded mode: MassTransit's in-memory transport inside one process.</summary>
    InMemory,
}

/// <summary>Message bus settings, configuration section "Bus".</summary>
public sealed class BusOptions : IValidatableObject
{
    public const string Section = "Bus";

    /// <summary>RabbitMq (distributed) or InMemory (embedded).</summary>
    public BusTransport Transport { get; set; } = BusTransport.RabbitMq;

    /// <summary>Broker connection; required when <see cref="Transport"/> is RabbitMq.</summary>
    public RabbitMqOptions RabbitMq { get; set; } = new();

    /// <summary>Messages fetched ahead per consumer endpoint.</summary>
    [Range(1, 1000)]
    public int PrefetchCount { get; set; } = 4;

    /// <summary>Messages handled concurrently per consumer endpoint.</summary>
    [Range(1, 256)]
    public int ConcurrentMessageLimit { get; set; } = 1;

    /// <summary>
    /// In-process retries for transient errors before a message goes to the error queue; the waits grow from
    /// 1.5 s to 15 s, so the default 7 span about a minute (a storage outage of 30 s is ridden out).
    /// </summary>
    [Range(0, 20)]
    public int RetryLimit { get; set; } = 7;

    /// <summary>
    /// Longest wait for one publish's broker confirm before it fails and the caller retries (see
    /// <see cref="BoundedPublisher"/>).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often each service reads the depth of every work and error queue for its gauges (RabbitMq only).</summary>
    public TimeSpan QueueDepthInterval { get; set; } = TimeSpan.FromSeconds(15);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Transport != BusTransport.RabbitMq) yield break;
        if (QueueDepthInterval < TimeSpan.FromMilliseconds(100))
            yield return new ValidationResult("must be at least 100 ms", [nameof(QueueDepthInterval)]);
        if (string.IsNullOrWhiteSpace(RabbitMq.Host))
            yield return new ValidationResult("is required when Bus:Transport is RabbitMq", ["RabbitMq:Host"]);
        if (string.IsNullOrWhiteSpace(RabbitMq.Username))
            yield return new ValidationResult("is required when Bus:Transport is RabbitMq", ["RabbitMq:Username"]);
        if (string.IsNullOrEmpty(RabbitMq.Password))
            yield return new ValidationResult("is required when Bus:Transport is RabbitMq", ["RabbitMq:Password"]);
    }
}

/// <summary>RabbitMQ broker connection. Credentials come from configuration or environment only.</summary>
public sealed class RabbitMqOptions
{
    public string Host { get; set; } = "";

    [Range(1, 65535)]
    public int Port { get; set; } = 5672;

    public string VirtualHost { get; set; } = "/";

    public string Username { get; set; } = "";

    public string Password { get; set; } = "";
}
