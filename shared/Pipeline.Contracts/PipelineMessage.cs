namespace Pipeline.Contracts;

/// <summary>
/// Common shape of every pipeline message. Contracts evolve by adding optional fields or by a new
/// record name, never by changing the meaning of a field; <see cref="ContractVersion"/> says which
/// revision the sender wrote.
/// </summary>
public interface IPipelineMessage
{
    /// <summary>Revision of the message contract the sender used (see <see cref="Contracts.ContractVersion"/>).</summary>
    int ContractVersion { get; }
}

/// <summary>The contract revision this assembly writes.</summary>
public static class ContractVersion
{
    /// <summary>Revision 1: the first published set of pipeline messages.</summary>
    public const int Current = 1;
}

/// <summary>How urgently a job should run; the broker delivers higher values first.</summary>
public enum JobPriority
{
    /// <summary>Overnight bulk backlog.</summary>
    Bulk = 0,
    /// <summary>Ordinary drop.</summary>
    Normal = 5,
    /// <summary>Goes ahead of any backlog.</summary>
    Urgent = 9,
}

/// <summary>The pipeline stage where something failed, for failure records and dashboards.</summary>
public enum PipelineStage
{
    Ingest,
    Denoise,
    Evaluation,
    Training,
}
