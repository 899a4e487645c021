using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Pipeline.Hosting;

namespace Pipeline.Evaluation;

/// <summary>Wires the evaluation service into a host (its own process, or the embedded all-in-one host).</summary>
public static class EvaluationRegistration
{
    /// <summary>Bus side: the consumer of SeriesDenoised.</summary>
    public static void AddEvaluationConsumers(this IBusRegistrationConfigurator bus) =>
        bus.AddConsumer<SeriesDenoisedConsumer, SeriesDenoisedConsumerDefinition>();

    /// <summary>Service side: settings and the series evaluator.</summary>
    public static IHostApplicationBuilder AddEvaluation(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<EvaluationOptions>(EvaluationOptions.Section);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<SeriesEvaluator>();
        return builder;
    }
}
