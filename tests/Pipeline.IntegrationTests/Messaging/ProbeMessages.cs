namespace Pipeline.IntegrationTests.Messaging;

/// <summary>A message with a payload worth checking field by field (MassTransit needs types in a namespace).</summary>
public sealed record ProbeMessage(Guid ProbeId, string StudyKey, IReadOnlyList<int> Numbers, DateTimeOffset SentAt);

/// <summary>A message whose consumer always throws, to prove failures end in the error queue.</summary>
public sealed record PoisonProbe(Guid ProbeId, string Reason);
