using Pipeline.Hosting;
using Pipeline.TrainingCoordinator;

// The training coordinator: RetrainRequested (on demand or from its own schedule) -> train a candidate from the buckets'
// data -> score it against the current model (evaluation service) -> promotion gate -> promote or reject -> decision record.
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(bus => bus.AddTrainingCoordinatorConsumers());
builder.AddObjectStore();
builder.AddTrainingCoordinator();
var app = builder.Build();
app.MapDefaultEndpoints();
await app.RunAsync();
