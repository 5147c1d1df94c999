using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using ResponsesGateway.Core.Background;
using ResponsesGateway.Http.Endpoints;

namespace ResponsesGateway.Functions;

/// <summary>
/// Background responses on Functions: the cancel route, the queue trigger that runs a queued response, and the trigger
/// of its poison queue that ends the run failed. The queue is <c>Background:QueueName</c> on the
/// <c>AzureWebJobsStorage</c> account (the account Storage settings name in Azure; Azurite locally). The host keeps a
/// message hidden while its function runs and retries a failed one (host.json <c>queues</c>); the run's claim keeps a
/// redelivered message from calling the upstream twice.
/// </summary>
public sealed class BackgroundFunctions(ResponsesEndpoints endpoints, BackgroundRunner runner)
{
    [Function("CancelResponse")]
    public async Task<IActionResult> Cancel([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/responses/{id}/cancel")] HttpRequest req, string id)
    {
        await endpoints.CancelAsync(req.HttpContext, id);
        return new EmptyResult();
    }

    [Function("RunBackgroundResponse")]
    public Task Run([QueueTrigger("%Background:QueueName%")] string message, CancellationToken cancellationToken) =>
        runner.RunAsync(message, keepMessage: null, cancellationToken);

    [Function("FailPoisonedBackgroundResponse")]
    public Task Poisoned([QueueTrigger("%Background:QueueName%-poison")] string message, CancellationToken cancellationToken) =>
        runner.FailPoisonedAsync(message, cancellationToken);
}
