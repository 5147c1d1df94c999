namespace ResponsesGateway.Core.Auth;

/// <summary>The caller, known by the name of the key it presented. Stored responses belong to it.</summary>
public sealed record Tenant(string Name);
