using System.Net;
using TunTap.Netlink;

namespace TunTap.Emulation.Topology;

/// <summary>
/// What bringing a <see cref="TopologyDefinition"/> up creates, worked out before anything is
/// touched: a namespace per host (<c>NAME-HOST</c>), a TUN device per link end (<c>emuN</c> for the
/// N-th link, from 0, in both hosts) and each host's routes. A host reaches every link's subnet
/// along the shortest path (fewest links; file order breaks ties) that passes only through routers.
/// </summary>
public sealed class TopologyPlan
{
    private TopologyPlan(TopologyDefinition definition, IReadOnlyDictionary<string, IReadOnlyList<RouteSpec>> routes)
    {
        Definition = definition;
        Routes = routes;
    }

    /// <summary>The topology.</summary>
    public TopologyDefinition Definition { get; }

    /// <summary>The routes each host gets (by host name), automatic ones first, then those the file gives.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<RouteSpec>> Routes { get; }

    /// <summary>Works out the plan of <paramref name="definition"/>.</summary>
    public static TopologyPlan Create(TopologyDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var routes = new Dictionary<string, IReadOnlyList<RouteSpec>>(StringComparer.Ordinal);
        foreach (var host in definition.Hosts)
        {
            routes[host.Name] = RoutesOf(definition, host);
        }

        return new TopologyPlan(definition, routes);
    }

    /// <summary>The namespace of <paramref name="host"/>.</summary>
    public string NamespaceOf(string host) => TopologyDefinition.NamespaceOf(Definition.Name, host);

    /// <summary>Every namespace of the topology, in host order.</summary>
    public IReadOnlyList<string> Namespaces()
    {
        var names = new List<string>(Definition.Hosts.Count);
        foreach (var host in Definition.Hosts)
        {
            names.Add(NamespaceOf(host.Name));
        }

        return names;
    }

    /// <summary>The device name of the link with index <paramref name="linkIndex"/> (the same at both ends).</summary>
    public static string DeviceOf(int linkIndex) => $"emu{linkIndex}";

    private static List<RouteSpec> RoutesOf(TopologyDefinition definition, TopologyHost source)
    {
        var links = definition.Links;

        // Breadth-first from the source; only the source and routers pass packets on.
        var firstLink = new Dictionary<string, int>(StringComparer.Ordinal) { [source.Name] = -1 };
        var distance = new Dictionary<string, int>(StringComparer.Ordinal) { [source.Name] = 0 };
        var queue = new Queue<string>();
        queue.Enqueue(source.Name);
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            if (node != source.Name && definition.FindHost(node) is not { IsRouter: true })
            {
                continue;
            }

            for (var i = 0; i < links.Count; i++)
            {
                var peer = links[i].A == node ? links[i].B : links[i].B == node ? links[i].A : null;
                if (peer is null || distance.ContainsKey(peer))
                {
                    continue;
                }

                distance[peer] = distance[node] + 1;
                firstLink[peer] = node == source.Name ? i : firstLink[node];
                queue.Enqueue(peer);
            }
        }

        var routes = new List<RouteSpec>();
        var explicitDestinations = new HashSet<InterfaceAddress>();
        foreach (var route in source.Routes)
        {
            explicitDestinations.Add(route.Destination);
        }

        for (var i = 0; i < links.Count; i++)
        {
            var link = links[i];
            if (link.A == source.Name || link.B == source.Name)
            {
                continue;
            }

            // Toward the nearer end; on a tie a router (it reaches both ends' addresses).
            string? via = null;
            foreach (var end in new[] { link.A, link.B })
            {
                if (!distance.TryGetValue(end, out var d))
                {
                    continue;
                }

                if (via is null || d < distance[via] || (d == distance[via] && definition.FindHost(end)!.IsRouter && !definition.FindHost(via)!.IsRouter))
                {
                    via = end;
                }
            }

            var subnet = new InterfaceAddress(InterfaceAddress.Mask(link.AAddress.Address, link.AAddress.PrefixLength), link.AAddress.PrefixLength);
            if (via is null || explicitDestinations.Contains(subnet))
            {
                continue;
            }

            var hop = firstLink[via];
            routes.Add(new RouteSpec(subnet, NeighbourAddress(links[hop], source.Name), DeviceOf(hop)));
        }

        foreach (var route in source.Routes)
        {
            routes.Add(new RouteSpec(route.Destination, route.Gateway, DeviceFor(links, source.Name, route.Gateway)));
        }

        return routes;
    }

    private static IPAddress NeighbourAddress(TopologyLink link, string host) => link.A == host ? link.BAddress.Address : link.AAddress.Address;

    private static string? DeviceFor(IReadOnlyList<TopologyLink> links, string host, IPAddress gateway)
    {
        for (var i = 0; i < links.Count; i++)
        {
            var own = links[i].A == host ? links[i].AAddress : links[i].B == host ? links[i].BAddress : default;
            if (own != default && own.Contains(gateway))
            {
                return DeviceOf(i);
            }
        }

        return null;
    }
}
