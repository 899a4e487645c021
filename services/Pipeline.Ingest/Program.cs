using Pipeline.Hosting;

// The Ingest service: service defaults (settings, telemetry, health, bus); its consumers arrive with
// the pipeline issue.
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
var app = builder.Build();
app.MapDefaultEndpoints();
await app.RunAsync();
