using TunTap.Netlink;

namespace TunTap.IntegrationTests.Netlink;

/// <summary>Runs an <see cref="RtNetlinkClient"/> opened inside a namespace (never the host's).</summary>
internal static class InNamespace
{
    public static T Netlink<T>(string netns, Func<RtNetlinkClient, T> action) =>
        NetworkNamespace.Run(netns, () =>
        {
            using var client = RtNetlinkClient.Open();
            return action(client);
        });

    public static void Netlink(string netns, Action<RtNetlinkClient> action) =>
        Netlink(netns, client =>
        {
            action(client);
            return 0;
        });

    /// <summary>The exception <paramref name="action"/> throws in the namespace (fails when it throws none).</summary>
    public static TunTapException Failure(string netns, Action<RtNetlinkClient> action)
    {
        var error = Netlink(netns, client => Record.Exception(() => action(client)));
        Assert.NotNull(error);
        return Assert.IsAssignableFrom<TunTapException>(error);
    }
}
