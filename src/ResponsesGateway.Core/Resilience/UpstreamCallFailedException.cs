using ResponsesGateway.Core.Upstreams;

namespace ResponsesGateway.Core.Resilience;

/// <summary>Every attempt failed before the answer started; <see cref="Upstream"/> is the one that failed last.</summary>
internal sealed class UpstreamCallFailedException(string upstream, UpstreamException failure) : Exception(failure.Message, failure)
{
    public string Upstream { get; } = upstream;

    public UpstreamException Failure { get; } = failure;
}
