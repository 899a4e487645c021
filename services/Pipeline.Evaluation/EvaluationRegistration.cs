using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Pipeline.Evaluation.Scoring;
using Pipeline.Hosting;
using Pipeline.Registry;

namespace Pipeline.Evaluation;

/// <summary>Wires the evaluation service into a host (its own process, or the embedded all-in-one host).</summary>
public static class EvaluationRegistration
{
    /// <summary>Bus side: the consumers of SeriesDenoised (and of its faults) and of model-scoring requests.</summary>
    public static void AddEvaluationConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<SeriesDenoisedConsumer, SeriesDenoisedConsumerDefinition>();
        bus.AddConsumer<SeriesDenoisedFaultConsumer>();
        bus.AddConsumer<EvaluationRequestedConsumer, EvaluationRequestedConsumerDefinition>();
    }

    /// <summary>Service side: settings, the series evaluator, the model scorer and the model registry it opens versions from.</summary>
    public static IHostApplicationBuilder AddEvaluation(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<EvaluationOptions>(EvaluationOptions.Section);
        builder.AddObjectLimits();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<SeriesEvaluator>();
        builder.AddModelRegistry();
        builder.Services.AddSingleton<ModelScorer>();
        return builder;
    }
}
