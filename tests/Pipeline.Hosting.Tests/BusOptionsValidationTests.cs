using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Pipeline.Hosting.Tests;

public sealed class BusOptionsValidationTests
{
    [Fact]
    public async Task A_RabbitMq_transport_without_host_or_credentials_stops_the_service_at_start_naming_each_setting()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Test" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Bus:Transport"] = "RabbitMq" });
        builder.AddServiceDefaults();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("setting 'Bus:RabbitMq:Host' (environment variable Bus__RabbitMq__Host)", error.Message, StringComparison.Ordinal);
        Assert.Contains("Bus:RabbitMq:Username", error.Message, StringComparison.Ordinal);
        Assert.Contains("Bus:RabbitMq:Password", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_out_of_range_nested_setting_is_reported_with_its_full_path()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Test" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Bus:Transport"] = "RabbitMq",
            ["Bus:RabbitMq:Host"] = "127.0.0.1",
            ["Bus:RabbitMq:Username"] = "u",
            ["Bus:RabbitMq:Password"] = "p",
            ["Bus:RabbitMq:Port"] = "70000",
        });
        builder.AddServiceDefaults();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("setting 'Bus:RabbitMq:Port'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Bus:RabbitMq:Host", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_transport_name_fails_binding_with_the_bad_value()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Test" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Bus:Transport"] = "Kafka" });

        var error = Assert.ThrowsAny<InvalidOperationException>(() => builder.AddServiceDefaults());

        Assert.Contains("Kafka", error.ToString(), StringComparison.Ordinal);
    }
}
