using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Pipeline.Hosting;

/// <summary>
/// One trace per study: every series of a study, whenever it completes (and again when it reopens),
/// starts its spans under the same parent, derived from the Study Instance UID. MassTransit carries the
/// context on to the worker and evaluation, so operators follow a whole study as one trace. The UID is
/// hashed: the trace id says nothing about the study.
/// </summary>
public static class StudyTrace
{
    public static ActivityContext ParentOf(string studyInstanceUid)
    {
        ArgumentNullException.ThrowIfNull(studyInstanceUid);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes("pipeline-study-trace:" + studyInstanceUid));
        return new ActivityContext(ActivityTraceId.CreateFromBytes(hash.AsSpan(0, 16)), ActivitySpanId.CreateFromBytes(hash.AsSpan(16, 8)),
            ActivityTraceFlags.Recorded);
    }
}
