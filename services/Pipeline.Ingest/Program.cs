using Pipeline.Hosting;
using Pipeline.Ingest;

// Ingest: bucket notifications + periodic listing -> series -> DenoiseSeries jobs.
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(bus => bus.AddIngestConsumers());
builder.AddObjectStore();
builder.AddIngest();
var app = builder.Build();
app.MapDefaultEndpoints();
await app.RunAsync();
