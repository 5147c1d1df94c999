using Azure;
using Azure.Storage.Queues;
using ResponsesGateway.Core.Background;

namespace ResponsesGateway.Storage.Background;

/// <summary>
/// <see cref="IBackgroundQueue"/> on an Azure Storage queue, created on first use. The client too is built on first
/// use: a gateway that never gets a background request starts (and serves everything else) without a queue configured.
/// </summary>
internal sealed class StorageBackgroundQueue(Func<QueueClient> client) : IBackgroundQueue
{
    private readonly Lazy<QueueClient> _queue = new(client);

    private readonly SemaphoreSlim _create = new(1, 1);
    private volatile bool _ready;

    public async Task EnqueueAsync(string responseId, CancellationToken cancellationToken)
    {
        var queue = _queue.Value;
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
