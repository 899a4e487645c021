using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Pipeline.Dicom;

namespace Pipeline.Hosting;

/// <summary>
/// Limits on input, configuration section "Limits", shared by every service that reads DICOM: per object (ingest's
/// header read, the worker's fetch, evaluation's loads) and per series and study (ingest). Each refusal fails the
/// objects concerned alone with a failure record naming the limit. Defaults accept the largest real clinical objects (see <see cref="DicomReadOptions"/>).
/// </summary>
public sealed class LimitsOptions
{
    public const string Section = "Limits";

    private static readonly DicomReadOptions Defaults = DicomReadOptions.Default;

    /// <summary>Largest object as stored, in bytes; the worker stops downloading a larger one at the limit.</summary>
    [Range(1L, (long)int.MaxValue)]
    public long MaxObjectBytes { get; set; } = Defaults.MaxObjectBytes;

    /// <summary>Largest dataset after inflation (Deflated syntax) and largest decoded pixel data (all frames), in bytes.</summary>
    [Range(1L, long.MaxValue)]
    public long MaxDecompressedBytes { get; set; } = Defaults.MaxDecompressedBytes;

    /// <summary>Most pixels in one frame (Rows x Columns).</summary>
    [Range(1L, (long)int.MaxValue)]
    public long MaxPixelsPerFrame { get; set; } = Defaults.MaxPixelsPerFrame;

    /// <summary>Most frames in one object.</summary>
    [Range(1, int.MaxValue)]
    public int MaxFrames { get; set; } = Defaults.MaxFrames;

    /// <summary>Deepest sequence nesting.</summary>
    [Range(1, 1000)]
    public int MaxDepth { get; set; } = Defaults.MaxDepth;

    /// <summary>Most pixels (Rows x Columns x frames, summed over its instances) in one series, checked by ingest before a
    /// job is published: one job is one worker's work, so this bounds how long it holds a worker. The default, 2^32,
    /// is 16,384 CT slices of 512x512.</summary>
    [Range(1L, long.MaxValue)]
    public long MaxPixelsPerSeries { get; set; } = 1L << 32;

    /// <summary>Most series in one study, checked by ingest: an instance that would open one more series fails alone
    /// (a flood of distinct Series Instance UIDs would otherwise become as many jobs). Real studies have tens.</summary>
    [Range(1, int.MaxValue)]
    public int MaxSeriesPerStudy { get; set; } = 1000;

    /// <summary>The reader options these limits make.</summary>
    public DicomReadOptions ToReadOptions() => new()
    {
        MaxObjectBytes = Math.Min(MaxObjectBytes, Array.MaxLength),
        MaxDecompressedBytes = MaxDecompressedBytes,
        MaxPixelsPerFrame = MaxPixelsPerFrame,
        MaxFrames = MaxFrames,
        MaxDepth = MaxDepth,
    };
}

/// <summary>Registers the "Limits" settings once, however many services of one host ask for them.</summary>
public static class LimitsRegistration
{
    public static IHostApplicationBuilder AddObjectLimits(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Services.Any(d => d.ServiceType == typeof(Microsoft.Extensions.Options.IValidateOptions<LimitsOptions>)))
            return builder;
        builder.AddValidatedOptions<LimitsOptions>(LimitsOptions.Section);
        return builder;
    }
}
