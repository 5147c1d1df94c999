using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using ResponsesGateway.Core.Auth;
using ResponsesGateway.Core.Errors;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Telemetry;

namespace ResponsesGateway.Http.Limits;

/// <summary>
/// Per-key limits applied after authentication on every endpoint: requests in flight
/// (<c>Gateway:MaxConcurrentRequestsPerKey</c>) and requests started per minute (<c>Gateway:RequestsPerMinutePerKey</c>).
/// Partitions are keyed by tenant name, which only a configured key can produce, so per-key state is bounded by the
/// number of configured keys (and idle partitions are dropped by <see cref="PartitionedRateLimiter"/> anyway).
/// </summary>
public sealed class TenantRequestLimiter : IDisposable
{
    // Nothing to read a delay from when the key is at its concurrency limit: a second is a fair guess for the caller.
    private const int ConcurrencyRetryAfterSeconds = 1;

    private readonly PartitionedRateLimiter<string>? _concurrency;
    private readonly PartitionedRateLimiter<string>? _rate;
    private readonly int _maxConcurrent;
    private readonly int _perMinute;

    public TenantRequestLimiter(IOptions<GatewayOptions> options)
    {
        _maxConcurrent = options.Value.MaxConcurrentRequestsPerKey;
        _perMinute = options.Value.RequestsPerMinutePerKey;
        if (_maxConcurrent > 0)
        {
            _concurrency = PartitionedRateLimiter.Create<string, string>(tenant => RateLimitPartition.GetConcurrencyLimiter(tenant,
                _ => new ConcurrencyLimiterOptions { PermitLimit = _maxConcurrent, QueueLimit = 0 }));
        }
        if (_perMinute > 0)
        {
            _rate = PartitionedRateLimiter.Create<string, string>(tenant => RateLimitPartition.GetTokenBucketLimiter(tenant, _ => Bucket(_perMinute)));
        }
    }

    /// <summary>A permit held for the whole request (a stream included), or the 429 the caller gets.</summary>
    internal IDisposable Acquire(Tenant tenant)
    {
        // Concurrency first: a request turned away for being one too many must not also spend a rate token.
        var slot = _concurrency?.AttemptAcquire(tenant.Name);
        if (slot is { IsAcquired: false })
        {
            slot.Dispose();
            GatewayMetrics.Rejected(tenant.Name, "concurrency");
            throw GatewayErrors.RateLimited($"concurrent requests: limit {_maxConcurrent}", ConcurrencyRetryAfterSeconds);
        }
        var token = _rate?.AttemptAcquire(tenant.Name);
        if (token is { IsAcquired: false })
        {
            var retryAfter = token.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? (int)Math.Ceiling(wait.TotalSeconds) : 60;
            token.Dispose();
            slot?.Dispose();
            GatewayMetrics.Rejected(tenant.Name, "rate");
            throw GatewayErrors.RateLimited($"requests per min (RPM): limit {_perMinute}", Math.Max(1, retryAfter));
        }
        return new Permit(slot, token);
    }

    public void Dispose()
    {
        _concurrency?.Dispose();
        _rate?.Dispose();
    }

    /// <summary>
    /// A bucket of one minute's worth of requests, refilled smoothly at exactly <paramref name="perMinute"/> a minute:
    /// a refill of k tokens every 60·k/perMinute seconds, with k chosen so the timer ticks at most about once a second.
    /// </summary>
    private static TokenBucketRateLimiterOptions Bucket(int perMinute)
    {
        var tokens = (perMinute + 59) / 60;
        return new TokenBucketRateLimiterOptions
        {
            TokenLimit = perMinute,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = TimeSpan.FromSeconds(60.0 * tokens / perMinute),
            QueueLimit = 0,
            AutoReplenishment = true,
        };
    }

    private sealed class Permit(RateLimitLease? slot, RateLimitLease? token) : IDisposable
    {
        public void Dispose()
        {
            token?.Dispose();
            slot?.Dispose();
        }
    }
}
