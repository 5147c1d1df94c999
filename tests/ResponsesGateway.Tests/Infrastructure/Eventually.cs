namespace ResponsesGateway.Tests.Infrastructure;

/// <summary>
/// Waiting for something the gateway does after it has answered (an upstream call seen or aborted, a request counted).
/// The caller asserts afterwards, so a condition that never holds fails there with the caller's own message.
/// </summary>
public static class Eventually
{
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
    }
}
