using System.CommandLine;

namespace TunTap.Cli;

/// <summary>Builds the <c>tuntap</c> command tree and runs it.</summary>
internal static class CliApp
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("TunTap: userspace networking on Linux TUN/TAP devices.");
        return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
    }
}
