using System.Text.Json.Nodes;

namespace ResponsesGateway.Core.Storage;

/// <summary>
/// One stored turn: the final Response object (with its settings echo and output items) and the input items of
/// this turn only. A chain is rebuilt from its turns, so each turn is stored once, not again in every descendant.
/// </summary>
public sealed class StoredResponse
{
    public required string Id { get; init; }

    /// <summary>The name of the key that created the response.</summary>
    public required string Owner { get; init; }

    public string? PreviousResponseId { get; init; }

    public required string Status { get; init; }

    public required string Model { get; init; }

    public required long CreatedAt { get; init; }

    /// <summary>The Response object as the client received it.</summary>
    public required JsonObject Response { get; init; }

    /// <summary>This turn's input items, each with a stable id.</summary>
    public required JsonArray InputItems { get; init; }

    /// <summary>The output items of <see cref="Response"/>.</summary>
    public JsonArray OutputItems => Response["output"] as JsonArray ?? [];
}
