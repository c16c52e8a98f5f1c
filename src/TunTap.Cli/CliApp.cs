using System.CommandLine;
using TunTap.Cli.Commands;

namespace TunTap.Cli;

/// <summary>Builds the <c>tuntap</c> command tree and runs it.</summary>
internal static class CliApp
{
    /// <summary>Shows stack traces and extra detail on errors.</summary>
    public static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Print details (stack traces) when something fails.",
        Recursive = true,
    };

    public static RootCommand BuildRoot()
    {
        var root = new RootCommand(
            """
            TunTap: userspace networking on Linux TUN/TAP devices.

            Create and inspect TUN (layer 3) and TAP (layer 2) devices, configure them over rtnetlink,
            and run user-space programs on them. Most commands need CAP_NET_ADMIN (run as root).
            """)
        {
            Verbose,
            DeviceCommand.Create(),
            ResponderCommand.Create(),
            TunnelCommand.Create(),
            DemoCommand.Create(),
            WgCommand.Create(),
        };
        return root;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var parse = BuildRoot().Parse(args);
        var configuration = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
        try
        {
            return await parse.InvokeAsync(configuration).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            return ErrorReporter.Report(e, parse.GetValue(Verbose));
        }
    }
}
