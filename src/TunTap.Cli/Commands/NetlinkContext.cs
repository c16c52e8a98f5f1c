using TunTap.Netlink;

namespace TunTap.Cli.Commands;

/// <summary>Runs an rtnetlink conversation in the caller's namespace or a named one.</summary>
internal static class NetlinkContext
{
    public static T Run<T>(string? netns, Func<RtNetlinkClient, T> action)
    {
        if (netns is null)
        {
            using var here = RtNetlinkClient.Open();
            return action(here);
        }

        return NetworkNamespace.Run(netns, () =>
        {
            using var there = RtNetlinkClient.Open();
            return action(there);
        });
    }
}
