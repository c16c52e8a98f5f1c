namespace TunTap.Emulation.Topology;

/// <summary>
/// A topology file, parsed and checked (see <see cref="TopologyParser"/>): hosts, the emulated links
/// between them with a model per direction, and which hosts route.
/// </summary>
/// <param name="Name">The topology's name: its namespaces are <c>NAME-HOST</c>, its control socket <c>/run/tuntap/emulate-NAME.sock</c>.</param>
/// <param name="Hosts">The hosts, in file order.</param>
/// <param name="Links">The links, in file order.</param>
/// <param name="Seed">The seed of every random choice, or null for a random one.</param>
/// <param name="Mtu">The MTU of every link device.</param>
/// <param name="BaseDirectory">Where relative trace paths are resolved (the file's directory).</param>
public sealed record TopologyDefinition(
    string Name,
    IReadOnlyList<TopologyHost> Hosts,
    IReadOnlyList<TopologyLink> Links,
    ulong? Seed,
    int Mtu,
    string BaseDirectory)
{
    /// <summary>The host named <paramref name="name"/>, or null.</summary>
    public TopologyHost? FindHost(string name)
    {
        foreach (var host in Hosts)
        {
            if (host.Name == name)
            {
                return host;
            }
        }

        return null;
    }

    /// <summary>The namespace of <paramref name="host"/> in a topology named <paramref name="name"/>.</summary>
    public static string NamespaceOf(string name, string host) => $"{name}-{host}";
}
