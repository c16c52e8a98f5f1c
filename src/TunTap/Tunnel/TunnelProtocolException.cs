namespace TunTap.Tunnel;

/// <summary>A peer broke the protocol (garbage, oversized frame, no hello): its connection is dropped, the endpoint keeps running.</summary>
internal sealed class TunnelProtocolException : Exception
{
    public TunnelProtocolException(string message)
        : base(message)
    {
    }

    public TunnelProtocolException()
    {
    }

    public TunnelProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
