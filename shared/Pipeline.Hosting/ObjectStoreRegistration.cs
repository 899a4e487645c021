using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Pipeline.Storage;

namespace Pipeline.Hosting;

/// <summary>Registers the object store chosen by the "Storage" settings (S3 or a local folder) and those settings, output bucket included.</summary>
public static class ObjectStoreRegistration
{
    public static IHostApplicationBuilder AddObjectStore(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<StorageOptions>(StorageOptions.Section);
        builder.Services.AddSingleton<IObjectStore>(sp => sp.GetRequiredService<IOptions<StorageOptions>>().Value.CreateStore());
        return builder;
    }
}
