using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using TunTap.Wire;

namespace TunTap.Switching.Dhcp;

/// <summary>
/// A client's binding: the address a MAC address holds (or held) and until when. Expired and
/// released bindings are kept as history, so a returning client gets its old address back.
/// </summary>
/// <param name="Mac">The client's hardware address (chaddr).</param>
/// <param name="Address">The address, read big-endian (10.0.0.1 is 0x0A000001).</param>
/// <param name="Expires">When the lease ends (a released lease ends when it was released).</param>
/// <param name="HostName">The host name the client sent (option 12), or null.</param>
public readonly record struct DhcpLease(MacAddress Mac, uint Address, DateTimeOffset Expires, string? HostName)
{
    /// <summary>The address as an <see cref="System.Net.IPAddress"/> (allocates).</summary>
    public IPAddress IPAddress => ToIPAddress(Address);

    /// <summary>True when the lease still runs at <paramref name="now"/>.</summary>
    public bool IsActive(DateTimeOffset now) => Expires > now;

    /// <summary><c>MAC ADDRESS EXPIRES [HOSTNAME]</c>, the lease file's line format.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Mac} {IPAddress} {Expires.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}{(HostName is null ? "" : " " + HostName)}");

    /// <summary>An address value as an <see cref="System.Net.IPAddress"/>.</summary>
    public static IPAddress ToIPAddress(uint address)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, address);
        return new IPAddress(bytes);
    }

    /// <summary>An IPv4 address as a value read big-endian.</summary>
    /// <exception cref="ArgumentException">Not an IPv4 address.</exception>
    public static uint ToValue(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || !address.TryWriteBytes(bytes, out var length) || length != 4)
        {
            throw new ArgumentException($"{address} is not an IPv4 address", nameof(address));
        }

        return BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }
}
