namespace TunTap.Wire;

/// <summary>TCP control bits (RFC 9293, RFC 3168).</summary>
[Flags]
public enum TcpFlags : ushort
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>No more data from sender.</summary>
    Fin = 0x001,

    /// <summary>Synchronize sequence numbers.</summary>
    Syn = 0x002,

    /// <summary>Reset the connection.</summary>
    Rst = 0x004,

    /// <summary>Push function.</summary>
    Psh = 0x008,

    /// <summary>Acknowledgment field is significant.</summary>
    Ack = 0x010,

    /// <summary>Urgent pointer field is significant.</summary>
    Urg = 0x020,

    /// <summary>ECN echo.</summary>
    Ece = 0x040,

    /// <summary>Congestion window reduced.</summary>
    Cwr = 0x080,

    /// <summary>ECN nonce (historic, RFC 3540).</summary>
    Ns = 0x100,
}
