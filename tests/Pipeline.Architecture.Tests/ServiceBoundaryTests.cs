using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Xml.Linq;

namespace Pipeline.Architecture.Tests;

/// <summary>
/// Services do not reach into each other: no service project references another, except the `pipeline` tool, which
/// composes ingest, the denoise worker and evaluation in one process (embedded mode) through their registration
/// methods only. Anything two services share lives in shared/.
/// </summary>
public sealed class ServiceBoundaryTests
{
    /// <summary>What the tool may use of each service it hosts: the registration class (its Add* methods).</summary>
    private static readonly Dictionary<string, string[]> HostedServices = new()
    {
        ["Pipeline.Ingest"] = ["Pipeline.Ingest.IngestRegistration"],
        ["Pipeline.DenoiseWorker"] = ["Pipeline.DenoiseWorker.DenoiseWorkerRegistration"],
        ["Pipeline.Evaluation"] = ["Pipeline.Evaluation.EvaluationRegistration"],
    };

    private static string Services => Path.Combine(ProductAssemblies.RepositoryRoot, "services");

    [Fact]
    public void No_service_project_references_another_service_except_the_tool_hosting_the_embedded_services()
    {
        var services = Directory.GetDirectories(Services).Select(Path.GetFileName).ToHashSet();
        Assert.Contains("Pipeline.Ingest", services);
        foreach (var project in Directory.GetFiles(Services, "*.csproj", SearchOption.AllDirectories))
        {
            var name = Path.GetFileNameWithoutExtension(project);
            var referenced = XDocument.Load(project).Descendants("ProjectReference")
                .Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value))
                .Where(services.Contains).ToList();
            var allowed = name == "Pipeline.Cli" ? HostedServices.Keys : Enumerable.Empty<string>();
            Assert.True(referenced.All(allowed.Contains), $"{name} references the service(s) {string.Join(", ", referenced.Except(allowed))}");
        }
    }

    [Fact]
    public void The_tool_uses_only_the_registration_classes_of_the_services_it_hosts()
    {
        var used = ReferencedTypes(Path.Combine(AppContext.BaseDirectory, "pipeline.dll"));
        Assert.Contains(used, t => t.Assembly == "Pipeline.Contracts"); // the scan sees cross-assembly types at all
        var trespass = used.Where(t => HostedServices.TryGetValue(t.Assembly, out var allowed) && !allowed.Contains(t.Type))
            .Select(t => $"{t.Assembly}: {t.Type}").ToList();
        Assert.True(trespass.Count == 0, "the tool reaches into services:\n" + string.Join('\n', trespass));
    }

    [Fact]
    public void A_service_exports_nothing_but_its_registration_class()
    {
        foreach (var (service, allowed) in HostedServices)
        {
            // Program (the entry point) is public by the ASP.NET Core generator's choice, for test hosts; nothing to reach into.
            var exported = Assembly.Load(service).GetExportedTypes().Select(t => t.FullName!).Where(t => t != "Program").Order().ToList();
            Assert.True(exported.SequenceEqual(allowed.Order()), $"{service} exports {string.Join(", ", exported.Except(allowed))}: make them internal");
        }
    }

    /// <summary>Every type <paramref name="path"/> references in another assembly (nested types by their outermost type).</summary>
    private static List<(string Assembly, string Type)> ReferencedTypes(string path)
    {
        using var pe = new PEReader(File.OpenRead(path));
        var md = pe.GetMetadataReader();
        var found = new List<(string, string)>();
        foreach (var handle in md.TypeReferences)
        {
            var type = md.GetTypeReference(handle);
            while (type.ResolutionScope.Kind == HandleKind.TypeReference)
                type = md.GetTypeReference((TypeReferenceHandle)type.ResolutionScope);
            if (type.ResolutionScope.Kind != HandleKind.AssemblyReference) continue;
            var assembly = md.GetString(md.GetAssemblyReference((AssemblyReferenceHandle)type.ResolutionScope).Name);
            var ns = md.GetString(type.Namespace);
            found.Add((assembly, ns.Length == 0 ? md.GetString(type.Name) : $"{ns}.{md.GetString(type.Name)}"));
        }
        return found;
    }
}
