using ResponsesGateway.Core.Errors;
using ResponsesGateway.Protocol.Errors;

namespace ResponsesGateway.Core.Conversations;

/// <summary>The errors of the Conversations API and of <c>conversation</c>/<c>item_reference</c> on create, worded like OpenAI's.</summary>
internal static class ConversationErrors
{
    public const int MaxItemsPerRequest = 20;

    public static GatewayException NotFound(string id) => new(404, new ApiError(
        $"Conversation with id '{GatewayErrors.Clip(id)}' not found.", ApiErrorTypes.InvalidRequest, null, null));

    /// <summary><c>conversation</c> on create names no conversation of this key.</summary>
    public static GatewayException TurnConversationNotFound(string id) => new(404, new ApiError(
        $"Conversation with id '{GatewayErrors.Clip(id)}' not found.", ApiErrorTypes.InvalidRequest, "conversation", "conversation_not_found"));

    public static GatewayException ItemNotFound(string itemId) => new(404, new ApiError(
        $"Item with id '{GatewayErrors.Clip(itemId)}' not found.", ApiErrorTypes.InvalidRequest, null, null));

    /// <summary>An <c>item_reference</c> names no stored item of this key.</summary>
    public static GatewayException ReferenceNotFound(string param, string itemId) => GatewayErrors.InvalidRequest(
        $"Item with id '{GatewayErrors.Clip(itemId)}' not found.", param, "item_not_found");

    public static GatewayException TooLarge(string id, long limitBytes) => GatewayErrors.InvalidRequest(
        $"The items of conversation '{GatewayErrors.Clip(id)}' are larger than this gateway's limit of {limitBytes} bytes (Gateway:MaxChainBytes). "
        + "Start a new conversation, or delete items from this one.", "conversation", "context_length_exceeded");

    public static GatewayException TooManyItems(string param, int count) => GatewayErrors.InvalidValue(param,
        $"array too long. Expected an array with maximum length {MaxItemsPerRequest}, but got an array with length {count} instead.", "array_above_max_length");

    public static GatewayException UnknownParameter(string name) => GatewayErrors.InvalidRequest(
        $"Unknown parameter: '{GatewayErrors.Clip(name)}'.", GatewayErrors.Clip(name), "unknown_parameter");
}
