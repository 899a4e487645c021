using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Pipeline.Contracts;
using Pipeline.Dicom;
using Pipeline.Hosting;
using Pipeline.Reporting;
using Pipeline.Storage;
using static Pipeline.IntegrationTests.Pipeline.Faults.FaultServers;

namespace Pipeline.IntegrationTests.Pipeline;

public sealed partial class DistributedPipelineTests
{
    /// <summary>
    /// No PHI leaves the process, and a study is one trace. A study whose files carry planted, unique values in Patient
    /// Name, Patient ID, Birth Date, Accession Number, Institution Name and Referring Physician runs as a batch through
    /// ingest, a worker and evaluation (processes at Debug level exporting OTLP to a receiver in this test), one of its
    /// slices truncated (it fails alone: a failure record). None of the values occurs in any log line, exported span, log
    /// record or metric, /metrics text, failure record, batch record or report; the derived DICOM series carries them, as
    /// the standard wants, which shows the values went all the way through. The decoded spans hold the study's ingest,
    /// denoise and evaluation spans in one trace, linked parent to child, with their counts, model version and device.
    /// </summary>
    [Fact]
    public async Task Requirement_planted_patient_values_appear_in_no_log_span_metric_or_bucket_document_and_a_study_is_one_linked_trace()
    {
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5));
        (DicomTag Tag, string Value)[] planted =
        [
            (DicomTags.PatientName, $"Plantedname{token}^Pat"), (DicomTags.PatientID, $"PID{token}X"),
            (DicomTags.PatientBirthDate, "18230917"), (DicomTags.AccessionNumber, $"ACC{token}"),
            (DicomTags.InstitutionName, $"Instplanted {token}"), (DicomTags.ReferringPhysicianName, $"Refplanted{token}^Doc"),
        ];
        // Each value as it might be rendered: whole, its name components apart (PN), a birth date in ISO form.
        string[] phi = [.. planted.SelectMany(p => p.Value.Split('^').Prepend(p.Value)).Where(v => v != "Pat" && v != "Doc"), "1823-09-17"];

        using var otlp = new OtlpRecorder();
        var settings = _scope.Settings();
        settings["Logging:LogLevel:Default"] = "Debug";
        settings["Logging:LogLevel:MassTransit"] = "Debug";
        otlp.ExportTo(settings);
        var ingest = new Dictionary<string, string?>(settings) { ["Ingest:BatchPollInterval"] = "00:00:00.200" };
        List<ServiceProcess> processes = [];
        try
        {
            processes = await StartAsync(("ingest", "Pipeline.Ingest", ingest), ("worker", "Pipeline.DenoiseWorker", Worker(_scope, settings, "worker")),
                ("evaluation", "Pipeline.Evaluation", settings));
            await using var observer = await RecorderBus.StartAsync(_scope);

            // Copies of sample slices with the planted values, written by our own writer; the last one cut short.
            var archive = "phi-" + _scope.Id;
            await _scope.Store.EnsureBucketAsync(archive);
            var slices = PipelineScope.SampleSeries("t1", 4);
            string? study = null;
            foreach (var (file, i) in slices.Select((f, i) => (f, i)))
            {
                var dicom = DicomFile.Open(file);
                foreach (var (tag, value) in planted) dicom.Dataset.SetString(tag, value);
                study = dicom.Dataset.GetRequiredString(DicomTags.StudyInstanceUID);
                using var bytes = new MemoryStream();
                dicom.Save(bytes);
                var content = i == slices.Length - 1 ? bytes.ToArray()[..^4096] : bytes.ToArray();
                await _scope.Store.PutBytesAsync(archive, $"night/study/{Path.GetFileName(file)}", content);
            }
            var submit = Cli(settings, "submit", $"{archive}/night/", "--batch", "phi-1");
            Assert.True(submit.ExitCode == 0, submit.Output);
            await observer.Recorder.WaitForAsync<EvaluationCompleted>(1, Patience);
            await WaitUntilAsync(async () => await ReadBatchOrNullAsync("phi-1") is { Finished: not null }, "the batch did not finish");

            using var http = new HttpClient();
            var scrapes = new List<(string Name, string Text)>();
            foreach (var process in processes)
                scrapes.Add((process.Name, await http.GetStringAsync(new Uri(await process.Address, "/metrics"))));
            foreach (var process in processes)
                await process.StopAsync(TimeSpan.FromSeconds(45)); // exporters flush on shutdown

            // What is searched is real: every signal arrived, the bucket holds a failure record, the batch's record and
            // report; the derived series carries the patient's identity (PS3.3 keeps the Patient module), so the search
            // finds the values where they belong.
            Assert.Equal(["/v1/logs", "/v1/metrics", "/v1/traces"], otlp.Paths);
            var documents = await _scope.ReadAllAsync(_scope.OutputBucket);
            Assert.Contains(documents.Keys, BucketLayout.IsFailureRecord);
            Assert.Contains(BucketLayout.Batch("phi-1"), documents.Keys);
            Assert.Contains(BucketLayout.BatchReport("phi-1"), documents.Keys);
            var derived = documents.Where(d => d.Key.EndsWith(".dcm", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(derived);
            Assert.All(derived, d => Assert.Equal(planted.Select(p => p.Value), Leaks(d.Value, planted.Select(p => p.Value))));

            var leaks = processes.SelectMany(p => p.Lines.SelectMany(l => Leaks(Encoding.UTF8.GetBytes(l), phi).Select(v => $"{p.Name} log ({v}): {l}")))
                .Concat(otlp.Bodies.SelectMany(b => Leaks(b.Body, phi).Select(v => $"OTLP {b.Path} ({v})")))
                .Concat(scrapes.SelectMany(s => Leaks(Encoding.UTF8.GetBytes(s.Text), phi).Select(v => $"{s.Name} /metrics ({v})")))
                .Concat(documents.Except(derived).SelectMany(d => Leaks(d.Value, phi).Select(v => $"bucket object {d.Key} ({v})")))
                .ToList();
            Assert.True(leaks.Count == 0, "PHI found in:\n" + string.Join('\n', leaks.Distinct().Take(20)));

            AssertOneLinkedTrace(otlp.Spans(), study!, observer.Recorder.All<DenoiseSeries>().Single());
        }
        finally
        {
            await DisposeAllAsync(processes);
        }

        async Task<BatchRecord?> ReadBatchOrNullAsync(string name)
        {
            try
            {
                return await _scope.Store.ReadBatchAsync(_scope.OutputBucket, name, default);
            }
            catch (HttpRequestException)
            {
                return null; // s3rver answers 500 to a GET that meets the record's rewrite
            }
        }
    }

    /// <summary>
    /// The study's trace (the id <see cref="StudyTrace"/> derives) holds ingest's, the worker's and evaluation's spans of
    /// the series; every span's parent is a span of the trace or the study's root, and evaluation descends from the
    /// denoise span, which descends from ingest's; each carries the counts, model version and device it names.
    /// </summary>
    private void AssertOneLinkedTrace(IReadOnlyList<OtlpSpan> spans, string study, DenoiseSeries job)
    {
        var root = StudyTrace.ParentOf(study);
        var trace = spans.Where(s => s.TraceId == root.TraceId.ToHexString()).ToDictionary(s => s.SpanId, StringComparer.Ordinal);
        foreach (var span in trace.Values.OrderBy(s => s.Service, StringComparer.Ordinal))
            output.WriteLine($"{span.Service} {span.Name} {span.SpanId} <- {span.ParentSpanId} {string.Join(", ", span.Attributes.Select(a => $"{a.Key}={a.Value}"))}");
        Assert.All(trace.Values, s => Assert.True(trace.ContainsKey(s.ParentSpanId) || s.ParentSpanId == root.SpanId.ToHexString(),
            $"{s.Service} {s.Name}: parent {s.ParentSpanId} is not in the trace"));

        var ingest = Assert.Single(trace.Values, s => s.Name == "ingest.series-complete");
        var denoise = Assert.Single(trace.Values, s => s.Name == "denoise.series");
        var evaluation = Assert.Single(trace.Values, s => s.Name == "evaluation.series");
        Assert.Equal(root.SpanId.ToHexString(), ingest.ParentSpanId);
        Assert.Contains(ingest.SpanId, Ancestors(denoise));
        Assert.Contains(denoise.SpanId, Ancestors(evaluation));

        var instances = job.Instances.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal((job.SeriesInstanceUid, instances), (ingest.Attributes["pipeline.series"], ingest.Attributes["pipeline.instances"]));
        Assert.Equal((job.ModelVersion, instances), (denoise.Attributes["pipeline.model_version"], denoise.Attributes["pipeline.instances"]));
        Assert.StartsWith("cpu", denoise.Attributes["pipeline.device"], StringComparison.Ordinal);
        Assert.Equal(job.ModelVersion, evaluation.Attributes["pipeline.model_version"]);
        Assert.True(int.Parse(evaluation.Attributes["pipeline.instances"], System.Globalization.CultureInfo.InvariantCulture) > 0);

        IEnumerable<string> Ancestors(OtlpSpan span)
        {
            for (var at = span; trace.TryGetValue(at.ParentSpanId, out var parent); at = parent)
                yield return parent.SpanId;
        }
    }
}
