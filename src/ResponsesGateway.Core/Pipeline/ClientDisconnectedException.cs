namespace ResponsesGateway.Core.Pipeline;

/// <summary>Thrown by an <see cref="IResponseEventSink"/> when the client is gone; nobody is left to answer.</summary>
public sealed class ClientDisconnectedException(Exception? inner = null) : Exception("The client disconnected.", inner);
