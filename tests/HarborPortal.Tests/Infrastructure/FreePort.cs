using System.Net;
using System.Net.Sockets;

namespace HarborPortal.Tests.Infrastructure;

public static class FreePort
{
    /// <summary>A loopback port nobody listens on right now (for servers whose address must be known before they start).</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
