using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using MassTransit;
using MassTransit.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Pipeline.Contracts;
using Pipeline.DenoiseWorker;
using Pipeline.Hosting;
using YamlDotNet.RepresentationModel;

namespace Pipeline.Architecture.Tests;

/// <summary>
/// The deployment files hold what the issue asks of a deployment and stay true to the code: every Kubernetes overlay
/// (infra/k8s/overlays/*), rendered offline by `kubectl kustomize`, gives every container probes on the health
/// endpoints, requests and limits, and a non-root security context; no credential is written inline; the KEDA
/// ScaledObjects watch the queue the denoise worker really consumes; and the compose file is valid.
/// </summary>
public sealed class DeploymentTests
{
    private static string K8s => Path.Combine(ProductAssemblies.RepositoryRoot, "infra", "k8s");

    private static IEnumerable<string> OverlayNames => Directory.GetDirectories(Path.Combine(K8s, "overlays")).Select(d => Path.GetFileName(d)!);

    public static TheoryData<string> Overlays => [.. OverlayNames];

    [Fact]
    public void There_is_a_cpu_and_a_gpu_overlay() => Assert.Equal(["cpu", "gpu"], OverlayNames.Order());

    [Theory, MemberData(nameof(Overlays))]
    public void Every_container_has_health_probes_requests_and_limits_and_runs_as_a_non_root_user(string overlay)
    {
        var deployments = Render(overlay).Where(o => Kind(o) == "Deployment").ToList();
        Assert.NotEmpty(deployments);
        foreach (var deployment in deployments)
        {
            var pod = deployment["spec"]!["template"]!["spec"]!;
            foreach (var container in pod["containers"]!.AsArray())
            {
                var where = $"{overlay}: {Name(deployment)}/{container!["name"]}";
                Assert.True(container["readinessProbe"]?["httpGet"]?["path"]?.ToString() == "/health/ready", $"{where}: readiness probe on /health/ready");
                Assert.True(container["livenessProbe"]?["httpGet"]?["path"]?.ToString() == "/health/live", $"{where}: liveness probe on /health/live");
                foreach (var bound in new[] { "requests", "limits" })
                foreach (var resource in new[] { "cpu", "memory" })
                    Assert.True(container["resources"]?[bound]?[resource] is not null, $"{where}: resources.{bound}.{resource}");
                var runAsUser = container["securityContext"]?["runAsUser"] ?? pod["securityContext"]?["runAsUser"];
                var runAsNonRoot = container["securityContext"]?["runAsNonRoot"] ?? pod["securityContext"]?["runAsNonRoot"];
                Assert.True(runAsNonRoot?.ToString() == "true" && runAsUser is not null && runAsUser.ToString() != "0", $"{where}: runs as a non-root user");
                Assert.True(container["securityContext"]?["allowPrivilegeEscalation"]?.ToString() == "false", $"{where}: no privilege escalation");
            }
        }
    }

    [Theory, MemberData(nameof(Overlays))]
    public void No_credential_is_written_inline(string overlay)
    {
        var objects = Render(overlay);
        // Secrets are created beside the deployment (infra/k8s/README.md), never rendered from the repository.
        Assert.DoesNotContain(objects, o => Kind(o) == "Secret");
        foreach (var map in objects.Where(o => Kind(o) == "ConfigMap"))
            Assert.DoesNotContain(map["data"]!.AsObject(), entry => IsCredential(entry.Key));
        foreach (var deployment in objects.Where(o => Kind(o) == "Deployment"))
        foreach (var container in deployment["spec"]!["template"]!["spec"]!["containers"]!.AsArray())
        foreach (var variable in container!["env"]?.AsArray() ?? [])
            Assert.False(IsCredential(variable!["name"]!.ToString()) && variable["value"] is not null,
                $"{overlay}: {Name(deployment)} sets {variable["name"]} inline");
        foreach (var scaler in objects.Where(o => Kind(o) == "ScaledObject"))
        foreach (var trigger in scaler["spec"]!["triggers"]!.AsArray())
            Assert.DoesNotContain("@", trigger!["metadata"]!["host"]!.ToString()); // no user:password@ in the URI
        foreach (var auth in objects.Where(o => Kind(o) == "TriggerAuthentication"))
            Assert.Equal(["secretTargetRef"], auth["spec"]!.AsObject().Select(p => p.Key));
    }

    [Theory, MemberData(nameof(Overlays))]
    public void Every_ScaledObject_scales_denoise_workers_on_the_queue_the_worker_consumes_at_the_services_broker(string overlay)
    {
        var objects = Render(overlay);
        var settings = objects.Single(o => Kind(o) == "ConfigMap" && Name(o).StartsWith("pipeline-settings", StringComparison.Ordinal))["data"]!;
        var scalers = objects.Where(o => Kind(o) == "ScaledObject").ToList();
        Assert.NotEmpty(scalers);
        foreach (var scaler in scalers)
        {
            var target = objects.Single(o => Kind(o) == "Deployment" && Name(o) == scaler["spec"]!["scaleTargetRef"]!["name"]!.ToString());
            Assert.Contains("denoise-worker", target["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.ToString());
            var trigger = scaler["spec"]!["triggers"]!.AsArray().Single()!;
            Assert.Equal("rabbitmq", trigger["type"]!.ToString());
            Assert.Equal(DenoiseJobQueue(), trigger["metadata"]!["queueName"]!.ToString());
            Assert.Equal($"amqp://{settings["Bus__RabbitMq__Host"]}/", trigger["metadata"]!["host"]!.ToString());
            Assert.Equal(settings["Bus__RabbitMq__VirtualHost"]!.ToString(), trigger["metadata"]!["vhostName"]!.ToString());
        }
    }

    [Theory, MemberData(nameof(Overlays))]
    public void A_worker_pod_is_given_longer_to_stop_than_the_worker_gives_the_job_in_hand(string overlay)
    {
        foreach (var worker in Render(overlay).Where(o => Kind(o) == "Deployment" && Name(o).StartsWith("denoise-worker", StringComparison.Ordinal)))
        {
            var pod = worker["spec"]!["template"]!["spec"]!;
            var shutdown = TimeSpan.Parse(pod["containers"]![0]!["env"]!.AsArray()
                .Single(v => v!["name"]!.ToString() == "DenoiseWorker__ShutdownTimeout")!["value"]!.ToString(), System.Globalization.CultureInfo.InvariantCulture);
            var grace = TimeSpan.FromSeconds((long)pod["terminationGracePeriodSeconds"]!);
            Assert.True(grace >= shutdown + TimeSpan.FromSeconds(15), $"{overlay}: {Name(worker)} grace {grace} vs shutdown timeout {shutdown}");
        }
    }

    [Fact]
    public void The_compose_file_is_valid_with_the_example_environment_and_refuses_to_start_without_one()
    {
        var root = ProductAssemblies.RepositoryRoot;
        foreach (var profile in new[] { "default", "gpu" })
        {
            var (exit, output) = Run("docker-compose", root, "-f", "docker-compose.yml", "--env-file", ".env.example", "--profile", profile, "config", "-q");
            Assert.True(exit == 0, $"docker-compose config ({profile}): {output}");
        }
        // No credential has a default in the compose file: without an environment file it names what is missing.
        var empty = Path.Combine(Path.GetTempPath(), $"empty-{Guid.NewGuid():N}.env");
        File.WriteAllText(empty, "");
        try
        {
            var (exit, output) = Run("docker-compose", root, "-f", "docker-compose.yml", "--env-file", empty, "config", "-q");
            Assert.NotEqual(0, exit);
            Assert.Contains("copy .env.example to .env", output);
        }
        finally { File.Delete(empty); }
    }

    /// <summary>The denoise worker's job queue as the service names it: its registration, MassTransit's endpoint name formatter.</summary>
    private static string DenoiseJobQueue()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Bus:Transport"] = "InMemory" });
        builder.AddPipelineBus(bus => bus.AddDenoiseWorkerConsumers());
        using var services = builder.Services.BuildServiceProvider();
        var context = services.GetRequiredService<IBusRegistrationContext>();
        var formatter = services.GetRequiredService<IEndpointNameFormatter>();
        var jobConsumer = services.GetServices<IConsumerRegistration>()
            .Single(r => typeof(IConsumer<DenoiseSeries>).IsAssignableFrom(r.Type));
        return jobConsumer.GetDefinition(context).GetEndpointName(formatter);
    }

    private static bool IsCredential(string name) =>
        new[] { "Password", "SecretKey", "AccessKey", "Username", "Token" }.Any(c => name.Contains(c, StringComparison.OrdinalIgnoreCase));

    private static string Kind(JsonNode o) => o["kind"]!.ToString();

    private static string Name(JsonNode o) => o["metadata"]!["name"]!.ToString();

    /// <summary>Each overlay is rendered once for all tests (read only).</summary>
    private static readonly ConcurrentDictionary<string, Lazy<List<JsonNode>>> Rendered = new();

    private static List<JsonNode> Render(string overlay) => Rendered.GetOrAdd(overlay, o => new(() => Kustomize(o))).Value;

    /// <summary>`kubectl kustomize` of one overlay, each rendered object as JSON (scalars as strings, except integers).</summary>
    private static List<JsonNode> Kustomize(string overlay)
    {
        var (exit, output) = Run("kubectl", K8s, "kustomize", Path.Combine("overlays", overlay));
        Assert.True(exit == 0, $"kubectl kustomize overlays/{overlay}: {output}");
        var stream = new YamlStream();
        stream.Load(new StringReader(output));
        return [.. stream.Documents.Select(d => ToJson(d.RootNode)!)];
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, ToJson(c.Value)))),
        YamlSequenceNode list => new JsonArray([.. list.Children.Select(ToJson)]),
        YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain } s when long.TryParse(s.Value, out var n) => JsonValue.Create(n),
        YamlScalarNode s => JsonValue.Create(s.Value),
        _ => throw new InvalidOperationException($"unexpected YAML node {node.NodeType}"),
    };

    private static (int Exit, string Output) Run(string tool, string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo(tool) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{tool} did not start (is it installed? infra/apt-packages.txt)");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }
}
