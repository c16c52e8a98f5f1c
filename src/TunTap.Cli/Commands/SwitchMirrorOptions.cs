using System.CommandLine;
using System.Globalization;
using TunTap.Switching;

namespace TunTap.Cli.Commands;

/// <summary>
/// <c>--mirror SRC[,SRC...]=DST</c> and <c>--pcap-ports PORT[,PORT...]</c> of <c>tuntap switch run</c>.
/// Ports are named by id (the order of <c>--port</c>, from 0; the gateway comes last), by their
/// spec up to the first comma (<c>tap:sw-a@red</c>), or <c>gateway</c>.
/// </summary>
internal sealed class SwitchMirrorOptions
{
    private const string PortForms = "a port id (0 = the first --port), the spec up to its first comma (e.g. tap:sw-a@red), or 'gateway'";

    public Option<string[]> Mirror { get; } = new("--mirror")
    {
        Description = "Copy every frame received on or sent to the SRC ports (once each) to the DST port, which then only listens, e.g. --mirror 0,1=2 (repeat for more DST ports).",
        HelpName = "SRC[,SRC...]=DST",
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<string?> PcapPorts { get; } = new("--pcap-ports")
    {
        Description = "Write only the frames received on or sent to these ports (once each) to --pcap, instead of every frame received.",
        HelpName = "PORT[,PORT...]",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Mirror);
        command.Options.Add(PcapPorts);
    }

    /// <summary>The capture's ports (null: all), resolved before the ports open so a typo fails fast.</summary>
    /// <exception cref="TunTapException">A port is not found, or --pcap-ports comes without --pcap.</exception>
    public static IReadOnlyList<int>? ResolveCapturePorts(string? text, bool hasPcap, IReadOnlyList<SwitchPortSpec> specs, bool hasGateway)
    {
        if (text is null)
        {
            return null;
        }

        if (!hasPcap)
        {
            throw new TunTapException("--pcap-ports needs --pcap FILE", "add --pcap FILE, or drop --pcap-ports");
        }

        return ResolveList("--pcap-ports", text, specs, hasGateway);
    }

    /// <summary>Each --mirror as (sources, destination).</summary>
    /// <exception cref="TunTapException">Malformed, a port not found, a port mirrored to itself, or a destination given twice.</exception>
    public static IReadOnlyList<(int[] Sources, int Destination)> ResolveMirrors(string[]? texts, IReadOnlyList<SwitchPortSpec> specs, bool hasGateway)
    {
        var list = new List<(int[] Sources, int Destination)>();
        foreach (var text in texts ?? [])
        {
            var equals = text.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || equals == text.Length - 1)
            {
                throw new TunTapException($"--mirror '{text}' is not SRC[,SRC...]=DST", $"ports are {PortForms}");
            }

            var sources = ResolveList("--mirror", text[..equals], specs, hasGateway);
            var destination = Resolve("--mirror", text[(equals + 1)..], specs, hasGateway);
            if (sources.Contains(destination))
            {
                throw new TunTapException($"--mirror '{text}': port {destination} cannot mirror to itself", "pick a destination port that is not a source");
            }

            if (list.Exists(m => m.Destination == destination || m.Sources.Contains(destination)) || list.Exists(m => sources.Contains(m.Destination)))
            {
                throw new TunTapException($"--mirror '{text}': port {destination} is already in another mirror", "a destination only listens: it cannot be a source or the destination of two mirrors");
            }

            list.Add((sources, destination));
        }

        return list;
    }

    private static int[] ResolveList(string option, string text, IReadOnlyList<SwitchPortSpec> specs, bool hasGateway)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var ids = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            ids[i] = Resolve(option, parts[i], specs, hasGateway);
        }

        return ids;
    }

    private static int Resolve(string option, string name, IReadOnlyList<SwitchPortSpec> specs, bool hasGateway)
    {
        var count = specs.Count + (hasGateway ? 1 : 0);
        if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            return id < count ? id : throw new TunTapException($"{option}: there is no port {id}", $"ports are 0-{count - 1} in the order of --port{(hasGateway ? ", then the gateway" : "")}");
        }

        if (name == "gateway" && hasGateway)
        {
            return specs.Count;
        }

        for (var i = 0; i < specs.Count; i++)
        {
            var text = specs[i].Text;
            var comma = text.IndexOf(',', StringComparison.Ordinal);
            if (text == name || (comma > 0 && text[..comma] == name))
            {
                return i;
            }
        }

        throw new TunTapException($"{option}: '{name}' names no port", $"name a port by {PortForms}");
    }
}
