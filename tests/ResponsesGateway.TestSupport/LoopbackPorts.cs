using System.Net;
using System.Net.Sockets;

namespace ResponsesGateway.TestSupport;

/// <summary>Free ports on 127.0.0.1 for the servers the tests start.</summary>
public static class LoopbackPorts
{
    /// <summary>
    /// A port the OS calls free now. Another process could take it before the caller binds it: starters that can tell
    /// (Azurite exits with EADDRINUSE) try another one.
    /// </summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
