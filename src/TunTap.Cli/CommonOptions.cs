using System.CommandLine;
using TunTap.Devices;

namespace TunTap.Cli;

/// <summary>Options several commands share, so they read and validate the same everywhere.</summary>
internal static class CommonOptions
{
    public static Option<string?> Netns() => new("--netns")
    {
        Description = "Run in the named network namespace (as listed by 'ip netns list') instead of the current one.",
        HelpName = "NS",
    };

    public static Option<DeviceMode> Mode(bool required = true) => new("--mode", "-m")
    {
        Description = "tun: layer 3, IP packets; tap: layer 2, Ethernet frames.",
        Required = required,
        HelpName = "tun|tap",
        CustomParser = result => ParseMode(result.Tokens.Count == 0 ? "" : result.Tokens[0].Value, result),
    };

    public static Option<InterfaceAddress[]> Addresses(string description) => new("--address", "-a")
    {
        Description = description,
        HelpName = "CIDR",
        AllowMultipleArgumentsPerToken = false,
        Arity = ArgumentArity.OneOrMore,
        CustomParser = result =>
        {
            var list = new InterfaceAddress[result.Tokens.Count];
            for (var i = 0; i < list.Length; i++)
            {
                var text = result.Tokens[i].Value;
                if (!InterfaceAddress.TryParse(text, out list[i]))
                {
                    result.AddError($"--address: '{text}' is not an address in CIDR notation (e.g. 10.9.0.1/24 or fd00:9::1/64)");
                }
            }

            return list;
        },
    };

    public static Option<int?> Mtu() => new("--mtu")
    {
        Description = "Link MTU in bytes (68-65535 for IPv4; IPv6 needs at least 1280).",
        HelpName = "N",
        Validators =
        {
            result =>
            {
                var value = result.GetValueOrDefault<int?>();
                if (value is < 68 or > 65535)
                {
                    result.AddError($"--mtu: {value} is out of range; allowed: 68-65535");
                }
            },
        },
    };

    public static Option<FileInfo?> Pcap() => new("--pcap")
    {
        Description = "Write every packet seen (both directions) to this pcap file (nanosecond timestamps; open it with Wireshark or tshark -r).",
        HelpName = "FILE",
    };

    private static DeviceMode ParseMode(string text, System.CommandLine.Parsing.ArgumentResult result)
    {
        switch (text.ToLowerInvariant())
        {
            case "tun":
                return DeviceMode.Tun;
            case "tap":
                return DeviceMode.Tap;
            default:
                result.AddError($"--mode: '{text}' is not a mode; allowed: tun, tap");
                return DeviceMode.Tun;
        }
    }
}
