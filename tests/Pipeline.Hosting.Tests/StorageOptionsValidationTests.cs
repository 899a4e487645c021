using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Pipeline.Storage;

namespace Pipeline.Hosting.Tests;

public sealed class StorageOptionsValidationTests
{
    private static IHost Build(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Test" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddObjectStore();
        return builder.Build();
    }

    [Fact]
    public async Task An_empty_output_bucket_stops_the_service_at_start_naming_the_setting()
    {
        using var host = Build(new() { ["Storage:OutputBucket"] = "" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("setting 'Storage:OutputBucket' (environment variable Storage__OutputBucket)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_output_bucket_is_bound_from_the_Storage_section()
    {
        using var host = Build(new() { ["Storage:OutputBucket"] = "out-1" });

        Assert.Equal("out-1", host.Services.GetRequiredService<IOptions<StorageOptions>>().Value.OutputBucket);
    }
}
