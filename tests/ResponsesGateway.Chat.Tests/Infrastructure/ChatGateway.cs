using ResponsesGateway.Core.Responses;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using ResponsesGateway.Core.Auth;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Pipeline;
using ResponsesGateway.Core.Requests;
using ResponsesGateway.Core.Routing;
using ResponsesGateway.Protocol.Serialization;

namespace ResponsesGateway.Upstreams.Chat.Tests.Infrastructure;

/// <summary>
/// The real pipeline (<see cref="ResponsesService"/>: id minting, renumbering, persistence, failure handling) with one
/// <c>chat</c> upstream built by <see cref="UpstreamFactory"/> against a <see cref="FakeChatServer"/>.
/// </summary>
internal sealed class ChatGateway
{
    public static readonly Tenant Tenant = new("tenant-a");

    private readonly ResponsesService _service;

    public ChatGateway(FakeChatServer server, Action<UpstreamOptions>? configure = null, Action<GatewayOptions>? configureGateway = null)
    {
        Server = server;
        var options = new UpstreamOptions { Kind = UpstreamKinds.Chat, BaseUrl = "http://chat.test/v1", Models = "*" };
        configure?.Invoke(options);
        var gateway = new GatewayOptions();
        configureGateway?.Invoke(gateway);
        var upstream = UpstreamFactory.Create("chat-test", options, gateway, new HttpClient(server), NullLoggerFactory.Instance);
        var router = new UpstreamRouter([new UpstreamRegistration("chat-test", options, upstream)]);
        _service = new ResponsesService(router, Store, Microsoft.Extensions.Options.Options.Create(gateway), TimeProvider.System, NullLogger<ResponsesService>.Instance);
    }

    public FakeChatServer Server { get; }

    public MemoryStore Store { get; } = new();

    /// <summary>The chat body the upstream received last.</summary>
    public JsonObject SentBody => ProtocolJson.ParseObject(Server.Requests[^1].Body);

    public async Task<List<JsonObject>> StreamAsync(string requestJson)
    {
        var sink = new ListSink();
        await StreamAsync(requestJson, sink);
        return sink.Events;
    }

    public Task StreamAsync(string requestJson, IResponseEventSink sink) =>
        _service.StreamAsync(Tenant, CreateResponseRequestParser.Validate(ProtocolJson.ParseObject(requestJson)), sink, CancellationToken.None);

    public Task<JsonObject> CreateAsync(string requestJson) =>
        CreateAsync(CreateResponseRequestParser.Validate(ProtocolJson.ParseObject(requestJson)));

    public Task<JsonObject> CompactAsync(string requestJson) =>
        _service.CompactAsync(Tenant, CreateResponseRequestParser.Validate(ProtocolJson.ParseObject(requestJson)), CancellationToken.None);

    public Task<JsonObject> CreateAsync(CreateResponseRequest request) => _service.CreateAsync(Tenant, request, CancellationToken.None);

    private sealed class ListSink : IResponseEventSink
    {
        public List<JsonObject> Events { get; } = [];

        public ValueTask WriteAsync(JsonObject streamEvent, int sequenceNumber, CancellationToken cancellationToken)
        {
            Events.Add(StreamEvents.WithSequence((JsonObject)streamEvent.DeepClone(), sequenceNumber));
            return ValueTask.CompletedTask;
        }
    }
}
