using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

var builder = FunctionsApplication.CreateBuilder(args);

// ASP.NET Core integration: the only model in which an HTTP trigger can stream; the others buffer the whole body
// (docs/architecture.md, Layers).
builder.ConfigureFunctionsWebApplication();

// The same composition root as the standalone server; no network calls at start-up (Flex has a 30 s init limit).
builder.Services.AddResponsesGateway(builder.Configuration);

// Traces and metrics when an exporter is configured; the worker's defaults make its spans children of the host's
// invocation span (host.json sets telemetryMode to OpenTelemetry), so host and worker share one trace.
builder.Services.AddGatewayTelemetry(builder.Configuration)?.UseFunctionsWorkerDefaults();

builder.Build().Run();
