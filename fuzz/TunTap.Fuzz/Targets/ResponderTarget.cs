using System.Net.NetworkInformation;
using TunTap.Devices;
using TunTap.Services;

namespace TunTap.Fuzz.Targets;

/// <summary>Every Wire view, through the responder that parses Ethernet, ARP, IPv4/6, ICMP and UDP.</summary>
internal sealed class ResponderTarget : IFuzzTarget
{
    private static readonly InterfaceAddress[] Addresses = [InterfaceAddress.Parse("10.9.0.1/24"), InterfaceAddress.Parse("fd09::1/64")];
    private static readonly PhysicalAddress Mac = new([0x02, 0, 0, 0, 0, 0x09]);
    private static readonly PacketResponder Tun = new(DeviceMode.Tun, Addresses, Mac);
    private static readonly PacketResponder Tap = new(DeviceMode.Tap, Addresses, Mac);
    private static readonly byte[] Reply = new byte[65536];

    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        Tun.Process(data, Reply);
        Tap.Process(data, Reply);
    }
}
