using System.Buffers.Binary;
using TunTap.Switching;
using TunTap.Wire;

namespace TunTap.Tests.Switching;

/// <summary>Frames and switches for the switching tests.</summary>
internal static class SwitchFrames
{
    public static MacAddress Mac(int n) => MacAddress.FromValue(0x0200_0000_0000UL | (uint)n);

    /// <summary>An Ethernet frame of <paramref name="totalLength"/> bytes, tagged when <paramref name="vlan"/> is given.</summary>
    public static byte[] Frame(MacAddress destination, MacAddress source, ushort? vlan = null, byte priority = 0, int totalLength = 64, ushort etherType = EtherType.Ipv4)
    {
        var frame = new byte[totalLength];
        var header = vlan is { } v
            ? EthernetFrame.WriteTaggedHeader(frame, destination, source, v, priority, etherType)
            : EthernetFrame.WriteHeader(frame, destination, source, etherType);
        for (var i = header; i < frame.Length; i++)
        {
            frame[i] = (byte)i;
        }

        return frame;
    }

    public static LearningSwitch Switch(TimeProvider time, SwitchOptions? options = null, params PortVlan[] ports)
    {
        var fabric = new LearningSwitch(options, time);
        for (var i = 0; i < ports.Length; i++)
        {
            fabric.AddPort(new SwitchPortConfig { Name = $"p{i}", Vlan = ports[i] });
        }

        return fabric;
    }

    public static int[] Egress(ForwardingDecision decision)
    {
        var list = new List<int>();
        foreach (var port in decision.Ports)
        {
            list.Add(port);
        }

        return [.. list];
    }

    /// <summary>The frame as it leaves <paramref name="port"/>.</summary>
    public static byte[] Out(LearningSwitch fabric, int port, byte[] frame, ForwardingDecision decision)
    {
        var buffer = new byte[frame.Length + LearningSwitch.MaxEgressGrowth];
        var length = fabric.WriteEgressFrame(port, frame, decision, buffer);
        Assert.True(length > 0);
        return buffer[..length];
    }

    public static ushort? TagOf(byte[] frame) =>
        BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)) == EtherType.Vlan ? (ushort)(BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(14)) & 0x0FFF) : null;
}
