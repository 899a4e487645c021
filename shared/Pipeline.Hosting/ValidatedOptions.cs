using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Pipeline.Hosting;

/// <summary>Typed settings bound from appsettings + environment and checked when the host starts.</summary>
public static class ValidatedOptions
{
    /// <summary>
    /// Binds <typeparamref name="TOptions"/> to configuration section <paramref name="section"/> and
    /// validates it (data annotations, <see cref="IValidatableObject"/>, nested objects) at start-up,
    /// so a missing or invalid setting stops the service with a message naming the setting.
    /// </summary>
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions>(this IHostApplicationBuilder builder, string section)
        where TOptions : class
    {
        builder.Services.AddSingleton<IValidateOptions<TOptions>>(new AnnotatedOptionsValidator<TOptions>(section));
        return builder.Services.AddOptions<TOptions>()
            .Bind(builder.Configuration.GetSection(section))
            .ValidateOnStart();
    }

    /// <summary>Validates an options object the same way outside a host (CLI, tests); returns the failures.</summary>
    public static IReadOnlyList<string> Validate(object options, string section)
    {
        var failures = new List<string>();
        Collect(options, section, failures, depth: 0);
        return failures;
    }

    private static void Collect(object instance, string path, List<string> failures, int depth)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(instance, new ValidationContext(instance), results, validateAllProperties: true);
        foreach (var result in results)
        {
            var members = result.MemberNames.Any() ? result.MemberNames : [""];
            foreach (var member in members)
            {
                var key = member.Length == 0 ? path : $"{path}:{member}";
                failures.Add($"setting '{key}' (environment variable {key.Replace(":", "__", StringComparison.Ordinal)}): {result.ErrorMessage}");
            }
        }

        if (depth > 4) return;
        foreach (var property in instance.GetType().GetProperties())
        {
            var type = property.PropertyType;
            if (!type.IsClass || type == typeof(string) || property.GetIndexParameters().Length > 0) continue;
            if (typeof(System.Collections.IEnumerable).IsAssignableFrom(type)) continue;
            if (property.GetValue(instance) is { } child)
                Collect(child, $"{path}:{property.Name}", failures, depth + 1);
        }
    }

    private sealed class AnnotatedOptionsValidator<TOptions>(string section) : IValidateOptions<TOptions>
        where TOptions : class
    {
        public ValidateOptionsResult Validate(string? name, TOptions options)
        {
            var failures = ValidatedOptions.Validate(options, section);
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
