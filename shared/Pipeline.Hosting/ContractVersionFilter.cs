using MassTransit;
using Pipeline.Contracts;

namespace Pipeline.Hosting;

/// <summary>
/// Refuses a pipeline message written by a newer contract revision than this build knows: the fields it
/// reads may no longer mean what it thinks, so it must not act on it. The message faults at once (no
/// retry can help) and lands in the endpoint's error queue with this reason; its Fault is published, so the
/// services' fault consumers write its failure record.
/// </summary>
internal sealed class ContractVersionFilter<T> : IFilter<ConsumeContext<T>>
    where T : class
{
    public async Task Send(ConsumeContext<T> context, IPipe<ConsumeContext<T>> next)
    {
        if (context.Message is IPipelineMessage { ContractVersion: > ContractVersion.Current } message)
        {
            var refused = new UnsupportedContractVersionException(typeof(T).Name, message.ContractVersion);
            // MassTransit publishes Fault<T> only for a consumer's exception; this runs before any consumer.
            await context.NotifyFaulted(TimeSpan.Zero, nameof(ContractVersionFilter<T>), refused);
            throw refused;
        }
        await next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("contractVersion");
}

/// <summary>A message's contract revision is newer than the one this service was built with.</summary>
public sealed class UnsupportedContractVersionException(string messageType, int version)
    : Exception($"{messageType} has contract version {version}; this service understands up to {ContractVersion.Current} (upgrade the service, then retry the message)");
