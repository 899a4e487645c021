using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Pipeline.Hosting;
using Pipeline.Promotion;
using Pipeline.Registry;

namespace Pipeline.TrainingCoordinator;

/// <summary>Wires the training coordinator into a host.</summary>
public static class TrainingCoordinatorRegistration
{
    /// <summary>Bus side: the consumer of RetrainRequested.</summary>
    public static void AddTrainingCoordinatorConsumers(this IBusRegistrationConfigurator bus) =>
        bus.AddConsumer<RetrainRequestedConsumer, RetrainRequestedConsumerDefinition>();

    /// <summary>
    /// Service side: settings ("TrainingCoordinator", and "Promotion" for the gate), the registry, the lease, the runner and
    /// the schedule.
    /// </summary>
    public static IHostApplicationBuilder AddTrainingCoordinator(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<CoordinatorOptions>(CoordinatorOptions.Section);
        builder.AddValidatedOptions<GateOptions>("Promotion");
        builder.AddObjectLimits();
        builder.AddModelRegistry();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<TrainingData>();
        builder.Services.AddSingleton<LeaseKeeper>();
        builder.Services.AddSingleton<RunSteps>();
        builder.Services.AddSingleton<RetrainRunner>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RetrainRunner>());
        builder.Services.AddHostedService<RetrainSchedule>();
        return builder;
    }
}
