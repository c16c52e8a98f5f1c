namespace TunTap.Capture;

/// <summary>Sizes and magic numbers of the classic pcap format (draft-ietf-opsawg-pcap).</summary>
internal static class PcapFormat
{
    /// <summary>Magic of a file with microsecond timestamps, as written in the file's byte order.</summary>
    public const uint MicrosecondMagic = 0xA1B2C3D4;

    /// <summary>Magic of a file with nanosecond timestamps.</summary>
    public const uint NanosecondMagic = 0xA1B23C4D;

    public const int FileHeaderSize = 24;
    public const int RecordHeaderSize = 16;
    public const ushort MajorVersion = 2;
    public const ushort MinorVersion = 4;

    /// <summary>The snap length tcpdump uses by default: large enough for any packet we see.</summary>
    public const int DefaultSnapLength = 262144;
}
