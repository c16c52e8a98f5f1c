using System.Buffers.Binary;
using TunTap.Devices;

namespace TunTap.Tunnel;

/// <summary>
/// The values both ends of a tunnel must agree on, exchanged first in a hello frame (and echoed
/// back in a hello-reject frame when they differ). Wire form, <see cref="Size"/> bytes:
/// magic <c>"TTUN"</c>, version, mode (0 tun, 1 tap), flags (bit 0: compression, bit 1: offloads),
/// reserved, MTU (big-endian 16 bits).
/// </summary>
/// <param name="Version">Protocol version spoken.</param>
/// <param name="Mode">TUN or TAP.</param>
/// <param name="Mtu">The device MTU.</param>
/// <param name="Compress">Whether this end wants per-packet compression.</param>
/// <param name="Offload">
/// Whether this end takes data frames with a virtio-net header (super packets up to 64 KiB). Not a
/// setting both ends must share: super packets go only where both ends offer it, otherwise the
/// sender cuts them into MTU-sized packets itself.
/// </param>
public readonly record struct TunnelHello(byte Version, DeviceMode Mode, int Mtu, bool Compress, bool Offload = false)
{
    /// <summary>
    /// The protocol version this library speaks. Version 2 added long frame headers and
    /// offload frames; a version 1 peer is refused with a clear mismatch.
    /// </summary>
    public const byte CurrentVersion = 2;

    /// <summary>Encoded size in bytes.</summary>
    public const int Size = 10;

    /// <summary><c>"TTUN"</c> as a big-endian number.</summary>
    public const uint Magic = 0x5454_554E;

    private const byte CompressFlag = 1;
    private const byte OffloadFlag = 2;
    private const byte KnownFlags = CompressFlag | OffloadFlag;

    /// <summary>Byte offsets of the encoded fields.</summary>
    public static class Field
    {
        /// <summary>4 bytes, <see cref="TunnelHello.Magic"/>.</summary>
        public const int Magic = 0;

        /// <summary>1 byte.</summary>
        public const int Version = 4;

        /// <summary>1 byte: 0 tun, 1 tap.</summary>
        public const int Mode = 5;

        /// <summary>1 byte: bit 0 compression, bit 1 offloads.</summary>
        public const int Flags = 6;

        /// <summary>1 byte, zero.</summary>
        public const int Reserved = 7;

        /// <summary>2 bytes, big-endian.</summary>
        public const int Mtu = 8;
    }

    /// <summary>The hello for this library's version with the given settings.</summary>
    public static TunnelHello For(DeviceMode mode, int mtu, bool compress, bool offload = false) => new(CurrentVersion, mode, mtu, compress, offload);

    /// <summary>Whether super packets (offload frames) may be sent to <paramref name="peer"/>: both ends offer them.</summary>
    public bool AgreesOnOffload(TunnelHello peer) => Offload && peer.Offload;

    /// <summary>Writes the <see cref="Size"/>-byte wire form to the start of <paramref name="destination"/>.</summary>
    public void Encode(Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, Size);
        ArgumentOutOfRangeException.ThrowIfNegative(Mtu);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Mtu, ushort.MaxValue);
        BinaryPrimitives.WriteUInt32BigEndian(destination[Field.Magic..], Magic);
        destination[Field.Version] = Version;
        destination[Field.Mode] = Mode == DeviceMode.Tap ? (byte)1 : (byte)0;
        destination[Field.Flags] = (byte)((Compress ? CompressFlag : 0) | (Offload ? OffloadFlag : 0));
        destination[Field.Reserved] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(destination[Field.Mtu..], (ushort)Mtu);
    }

    /// <summary>
    /// Parses a hello payload: exactly <see cref="Size"/> bytes, the magic, a known mode and no
    /// unknown flag bits. Any version parses (so a version mismatch can be reported).
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> source, out TunnelHello hello)
    {
        hello = default;
        if (source.Length != Size
            || BinaryPrimitives.ReadUInt32BigEndian(source[Field.Magic..]) != Magic
            || source[Field.Mode] > 1
            || (source[Field.Flags] & ~KnownFlags) != 0)
        {
            return false;
        }

        hello = new TunnelHello(
            source[Field.Version],
            source[Field.Mode] == 1 ? DeviceMode.Tap : DeviceMode.Tun,
            BinaryPrimitives.ReadUInt16BigEndian(source[Field.Mtu..]),
            (source[Field.Flags] & CompressFlag) != 0,
            (source[Field.Flags] & OffloadFlag) != 0);
        return true;
    }

    /// <summary>
    /// Compares this end's values with the peer's (<see cref="Offload"/> is negotiated, not compared).
    /// Returns null when they agree, otherwise one line
    /// naming every difference with both values, e.g.
    /// <c>mode mismatch: this end is tun, the peer is tap</c>.
    /// </summary>
    public string? DescribeMismatch(TunnelHello peer)
    {
        if (Version != peer.Version)
        {
            // Nothing else is comparable across versions.
            return $"protocol version mismatch: this end speaks version {Version}, the peer speaks version {peer.Version}";
        }

        List<string>? differences = null;
        if (Mode != peer.Mode)
        {
            (differences ??= []).Add($"mode mismatch: this end is {Name(Mode)}, the peer is {Name(peer.Mode)}");
        }

        if (Mtu != peer.Mtu)
        {
            (differences ??= []).Add($"MTU mismatch: this end has MTU {Mtu}, the peer has MTU {peer.Mtu}");
        }

        if (Compress != peer.Compress)
        {
            (differences ??= []).Add($"compression mismatch: this end has compression {OnOff(Compress)}, the peer has it {OnOff(peer.Compress)}");
        }

        return differences is null ? null : string.Join("; ", differences);
    }

    private static string Name(DeviceMode mode) => mode == DeviceMode.Tap ? "tap" : "tun";

    private static string OnOff(bool value) => value ? "on" : "off";
}
