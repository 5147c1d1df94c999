using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

var builder = FunctionsApplication.CreateBuilder(args);

// ASP.NET Core integration: the only model in which an HTTP trigger can stream; the others buffer the whole body
// (docs/architecture.md, Layers).
builder.ConfigureFunctionsWebApplication();

// The same composition root as the standalone server; no network calls at start-up (Flex has a 30 s init limit).
builder.Services.AddResponsesGateway(builder.Configuration);

builder.Build().Run();
