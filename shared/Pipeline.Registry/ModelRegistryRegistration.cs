using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Hosting;
using Pipeline.Storage;

namespace Pipeline.Registry;

/// <summary>Registry settings shared by every service, configuration section "ModelRegistry".</summary>
public sealed class ModelRegistrySettings
{
    public const string Section = "ModelRegistry";

    /// <summary>Bucket of the registry.</summary>
    [Required]
    public string Bucket { get; set; } = "models";

    /// <summary>Name of the model the pipeline applies; its current version is what new jobs use.</summary>
    [Required]
    public string Model { get; set; } = "denoiser";

    /// <summary>Local cache of verified versions (default: a folder under the system temp folder).</summary>
    public string? CacheFolder { get; set; }
}

public static class ModelRegistryRegistration
{
    /// <summary>Registers <see cref="ModelRegistry"/> over the service's object store (once per host).</summary>
    public static IHostApplicationBuilder AddModelRegistry(this IHostApplicationBuilder builder)
    {
        // Several services in one (embedded) host each ask for it: register it once.
        if (builder.Services.Any(d => d.ServiceType == typeof(ModelRegistry)))
            return builder;
        builder.AddValidatedOptions<ModelRegistrySettings>(ModelRegistrySettings.Section);
        builder.Services.AddSingleton(sp =>
        {
            var settings = sp.GetRequiredService<IOptions<ModelRegistrySettings>>().Value;
            var options = new ModelRegistryOptions { Bucket = settings.Bucket };
            if (!string.IsNullOrWhiteSpace(settings.CacheFolder))
                options = options with { CacheFolder = settings.CacheFolder };
            return new ModelRegistry(sp.GetRequiredService<IObjectStore>(), options, sp.GetRequiredService<ILogger<ModelRegistry>>());
        });
        return builder;
    }
}
