using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ResponsesGateway.Core.Background;
using ResponsesGateway.Core.Options;

namespace ResponsesGateway.Storage.Background;

/// <summary>
/// The standalone server's consumer of the run queue (the Functions app has its queue trigger instead). A message
/// stays hidden while its run goes on (renewed with the run's lease), so an instance that dies lets it reappear; the
/// run's claim then keeps it from running twice. A message delivered <c>Background:MaxDequeueCount</c> times goes to
/// the poison queue and its run ends failed.
/// </summary>
internal sealed partial class QueueRunnerService(BackgroundRunner runner, IOptions<StorageOptions> storage, IOptions<BackgroundOptions> options,
    ILogger<QueueRunnerService> logger) : BackgroundService
{
    private static readonly TimeSpan IdleDelayMax = TimeSpan.FromSeconds(2);
    private readonly BackgroundOptions _options = options.Value;
    private readonly List<Task> _running = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Runner)
        {
            return;
        }
        QueueClient queue, poison;
        try
        {
            queue = BackgroundQueueClients.Create(storage.Value, _options);
            poison = BackgroundQueueClients.Create(storage.Value, _options, BackgroundQueueClients.PoisonQueueName(_options.QueueName));
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            // Everything else works without the queue; background creates answer 503 until it is configured.
            Log.NotConfigured(logger, e.Message);
            return;
        }
        var failures = 0;
        var slots = new SemaphoreSlim(Math.Max(1, _options.MaxConcurrentRuns));
        var visibility = TimeSpan.FromSeconds(Math.Max(2, _options.LeaseSeconds * 2));
        var idle = TimeSpan.FromMilliseconds(100);
        var created = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!created)
                {
                    await queue.CreateIfNotExistsAsync(cancellationToken: stoppingToken);
                    await poison.CreateIfNotExistsAsync(cancellationToken: stoppingToken);
                    created = true;
                }
                await slots.WaitAsync(stoppingToken);
                QueueMessage[] messages;
                try
                {
                    messages = (await queue.ReceiveMessagesAsync(1, visibility, stoppingToken)).Value;
                }
                catch
                {
                    slots.Release();
                    throw;
                }
                if (messages.Length == 0)
                {
                    slots.Release();
                    await Task.Delay(idle, stoppingToken);
                    idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, IdleDelayMax.Ticks));
                    continue;
                }
                idle = TimeSpan.FromMilliseconds(100);
                failures = 0;
                var message = messages[0];
                lock (_running)
                {
                    _running.RemoveAll(t => t.IsCompleted);
                    _running.Add(Task.Run(() => HandleAsync(queue, poison, message, visibility, slots), CancellationToken.None));
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // An unreachable queue is retried with back-off (up to a minute), not in a tight loop.
                failures++;
                Log.QueueFailed(logger, e);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(60, Math.Pow(2, Math.Min(failures, 6)))), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        Task[] running;
        lock (_running)
        {
            running = [.. _running];
        }
        // The runs end on their own, or when the gateway's drain cuts them (they are stored failed then).
        await Task.WhenAll(running).WaitAsync(cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private async Task HandleAsync(QueueClient queue, QueueClient poison, QueueMessage message, TimeSpan visibility, SemaphoreSlim slots)
    {
        var receipt = message.PopReceipt;
        try
        {
            if (message.DequeueCount > Math.Max(1, _options.MaxDequeueCount))
            {
                Log.Poisoned(logger, message.MessageId, message.DequeueCount);
                await poison.SendMessageAsync(message.Body.ToString(), CancellationToken.None);
                await queue.DeleteMessageAsync(message.MessageId, receipt, CancellationToken.None);
                await runner.FailPoisonedAsync(message.Body.ToString(), CancellationToken.None);
                return;
            }
            await runner.RunAsync(message.Body.ToString(), async ct =>
            {
                var updated = await queue.UpdateMessageAsync(message.MessageId, receipt, visibilityTimeout: visibility, cancellationToken: ct);
                receipt = updated.Value.PopReceipt;
            }, CancellationToken.None);
            await queue.DeleteMessageAsync(message.MessageId, receipt, CancellationToken.None);
        }
        catch (Exception e)
        {
            // Left on the queue: it reappears after its visibility timeout, and goes to the poison queue after enough tries.
            Log.RunFailed(logger, message.MessageId, e);
        }
        finally
        {
            slots.Release();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7201, Level = LogLevel.Warning, Message = "Reading the background queue failed")]
        public static partial void QueueFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 7202, Level = LogLevel.Warning, Message = "Background queue message {MessageId} failed; it will be delivered again")]
        public static partial void RunFailed(ILogger logger, string messageId, Exception exception);

        [LoggerMessage(EventId = 7204, Level = LogLevel.Error, Message = "The background queue is not configured; this instance runs no background responses: {Reason}")]
        public static partial void NotConfigured(ILogger logger, string reason);

        [LoggerMessage(EventId = 7203, Level = LogLevel.Warning, Message = "Background queue message {MessageId} delivered {Count} times: moved to the poison queue")]
        public static partial void Poisoned(ILogger logger, string messageId, long count);
    }
}
