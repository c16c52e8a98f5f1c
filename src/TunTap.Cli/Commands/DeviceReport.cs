using System.Globalization;
using System.Text;
using System.Text.Json;
using TunTap.Devices;
using TunTap.Netlink;

namespace TunTap.Cli.Commands;

/// <summary>One TUN/TAP device as `device list` and `device show` report it.</summary>
internal sealed record DeviceReport(LinkInfo Link, TunLinkInfo Tun, IReadOnlyList<InterfaceAddress> Addresses)
{
    public string Mode => Tun.Mode == DeviceMode.Tap ? "tap" : "tun";

    public string State => !Link.IsUp ? "down" : Link.HasCarrier ? "up" : "no-carrier";

    public string Flags
    {
        get
        {
            var flags = new List<string>();
            if (Tun.Persist)
            {
                flags.Add("persist");
            }

            if (Tun.MultiQueue)
            {
                flags.Add($"multi_queue({Tun.NumQueues})");
            }

            if (Tun.VnetHeader)
            {
                flags.Add("vnet_hdr");
            }

            if (Tun.PacketInfo)
            {
                flags.Add("pi");
            }

            return flags.Count == 0 ? "-" : string.Join(',', flags);
        }
    }

    /// <summary>Reads every TUN/TAP device with its addresses.</summary>
    public static List<DeviceReport> ReadAll(RtNetlinkClient netlink)
    {
        var reports = new List<DeviceReport>();
        var addresses = netlink.GetAddresses();
        foreach (var link in netlink.GetLinks())
        {
            if (link.Tun is { } tun)
            {
                reports.Add(new DeviceReport(link, tun, AddressesOf(addresses, link.Index)));
            }
        }

        return reports;
    }

    /// <summary>Reads one device; a missing or non-TUN/TAP name is a user error.</summary>
    public static DeviceReport ReadOne(RtNetlinkClient netlink, string name)
    {
        var link = netlink.GetLink(name);
        if (link.Tun is not { } tun)
        {
            throw new TunTapException($"'{name}' is a {link.Kind ?? "physical"} interface, not a TUN/TAP device", "list the TUN/TAP devices with 'tuntap device list'");
        }

        return new DeviceReport(link, tun, AddressesOf(netlink.GetAddresses(name), link.Index));
    }

    public static string ToJson(IEnumerable<DeviceReport> reports, bool array)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            if (array)
            {
                json.WriteStartArray();
            }

            foreach (var report in reports)
            {
                report.WriteJson(json);
            }

            if (array)
            {
                json.WriteEndArray();
            }
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    public void WriteJson(Utf8JsonWriter json)
    {
        ArgumentNullException.ThrowIfNull(json);
        json.WriteStartObject();
        json.WriteString("name", Link.Name);
        json.WriteNumber("index", Link.Index);
        json.WriteString("mode", Mode);
        json.WriteString("state", State);
        json.WriteBoolean("up", Link.IsUp);
        json.WriteBoolean("carrier", Link.HasCarrier);
        json.WriteNumber("mtu", Link.Mtu);
        WriteOptionalId(json, "owner", Tun.Owner);
        WriteOptionalId(json, "group", Tun.Group);
        json.WriteBoolean("persist", Tun.Persist);
        json.WriteBoolean("multi_queue", Tun.MultiQueue);
        json.WriteNumber("queues", Tun.NumQueues);
        json.WriteNumber("disabled_queues", Tun.NumDisabledQueues);
        json.WriteBoolean("vnet_hdr", Tun.VnetHeader);
        json.WriteBoolean("pi", Tun.PacketInfo);
        if (Link.Address is { } mac && Tun.Mode == DeviceMode.Tap)
        {
            json.WriteString("mac", FormatMac(mac.GetAddressBytes()));
        }

        json.WriteStartArray("addresses");
        foreach (var address in Addresses)
        {
            json.WriteStringValue(address.ToString());
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static string FormatMac(ReadOnlySpan<byte> mac)
    {
        var sb = new StringBuilder(17);
        for (var i = 0; i < mac.Length; i++)
        {
            if (i > 0)
            {
                sb.Append(':');
            }

            sb.Append(mac[i].ToString("x2", CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }

    public static string FormatId(uint? id) => id is { } value ? value.ToString(CultureInfo.InvariantCulture) : "-";

    private static void WriteOptionalId(Utf8JsonWriter json, string name, uint? id)
    {
        if (id is { } value)
        {
            json.WriteNumber(name, value);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static List<InterfaceAddress> AddressesOf(IReadOnlyList<AddressInfo> all, int index)
    {
        var list = new List<InterfaceAddress>();
        foreach (var info in all)
        {
            if (info.InterfaceIndex == index)
            {
                list.Add(info.Address);
            }
        }

        return list;
    }
}
