namespace TunTap.Wire;

/// <summary>ARP operation codes (RFC 826).</summary>
public enum ArpOperation : ushort
{
    /// <summary>Who has the target protocol address?</summary>
    Request = 1,

    /// <summary>The sender hardware address has the sender protocol address.</summary>
    Reply = 2,
}
