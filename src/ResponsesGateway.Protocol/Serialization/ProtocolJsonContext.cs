using System.Text.Json.Serialization;
using ResponsesGateway.Protocol.Errors;
using ResponsesGateway.Protocol.Lists;

namespace ResponsesGateway.Protocol.Serialization;

/// <summary>Source-generated serializers for the typed wire records; nothing in the gateway serializes by reflection.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ErrorEnvelope))]
[JsonSerializable(typeof(DeletedResponse))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(InputItemList))]
public sealed partial class ProtocolJsonContext : JsonSerializerContext;
