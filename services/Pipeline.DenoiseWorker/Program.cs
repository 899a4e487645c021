using Pipeline.DenoiseWorker;
using Pipeline.Hosting;

// Denoise worker: DenoiseSeries jobs -> derived DICOM series, completion marker, SeriesDenoised.
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(bus => bus.AddDenoiseWorkerConsumers());
builder.AddObjectStore();
builder.AddDenoiseWorker();
var app = builder.Build();
app.MapDefaultEndpoints();
await app.RunAsync();
