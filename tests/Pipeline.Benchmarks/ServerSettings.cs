namespace Pipeline.Benchmarks;

/// <summary>The part of .test-servers/settings.json (written by infra/test-servers/start.sh) the benchmarks need.</summary>
internal sealed record ServerSettings(RabbitMqSettings RabbitMq, StorageSection Storage);

internal sealed record RabbitMqSettings(string Host, int Port, string VirtualHost, string Username, string Password);

internal sealed record StorageSection(S3Section S3);

internal sealed record S3Section(string Endpoint, string AccessKey, string SecretKey, string Region);
