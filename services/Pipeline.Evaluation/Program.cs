using Pipeline.Evaluation;
using Pipeline.Hosting;

// Evaluation: SeriesDenoised -> metrics, JSON report and PNG montage in the output bucket -> EvaluationCompleted.
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(bus => bus.AddEvaluationConsumers());
builder.AddObjectStore();
builder.AddEvaluation();
var app = builder.Build();
app.MapDefaultEndpoints();
await app.RunAsync();
