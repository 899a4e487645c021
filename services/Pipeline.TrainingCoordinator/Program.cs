using Pipeline.Hosting;

// The TrainingCoordinator service: service defaults (settings, telemetry, health, bus) only; its consumers are not
// written yet.
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
var app = builder.Build();
app.MapDefaultEndpoints();
await app.RunAsync();
