namespace TunTap.Wire;

/// <summary>Why a buffer is not a valid packet of the requested kind.</summary>
public enum WireError
{
    /// <summary>The buffer holds a valid header.</summary>
    None,

    /// <summary>The buffer ends before the header, or before a length the header announces.</summary>
    Truncated,

    /// <summary>A field holds an impossible value (wrong version, header length too small, ...).</summary>
    Malformed,

    /// <summary>Well-formed, but a variant this view does not model (e.g. ARP over something other than Ethernet/IPv4).</summary>
    Unsupported,
}
