using Azure;
using Azure.Storage.Queues;
using ResponsesGateway.Core.Background;

namespace ResponsesGateway.Storage.Background;

/// <summary><see cref="IBackgroundQueue"/> on an Azure Storage queue, created on first use.</summary>
internal sealed class StorageBackgroundQueue(QueueClient queue) : IBackgroundQueue
{
    private readonly SemaphoreSlim _create = new(1, 1);
    private volatile bool _ready;

    public async Task EnqueueAsync(string responseId, CancellationToken cancellationToken)
    {
        await EnsureAsync(queue, cancellationToken);
        try
        {
            await queue.SendMessageAsync(BackgroundRunner.Message(responseId), cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            // The queue went away after this process created it: create it again once.
            _ready = false;
            await EnsureAsync(queue, cancellationToken);
            await queue.SendMessageAsync(BackgroundRunner.Message(responseId), cancellationToken);
        }
    }

    private async Task EnsureAsync(QueueClient client, CancellationToken cancellationToken)
    {
        if (_ready)
        {
            return;
        }
        await _create.WaitAsync(cancellationToken);
        try
        {
            if (!_ready)
            {
                await client.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
                _ready = true;
            }
        }
        finally
        {
            _create.Release();
        }
    }
}
