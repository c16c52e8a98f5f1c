using System.CommandLine;
using System.CommandLine.Help;
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
            WgCommand.Create(),
            EmulateCommand.Create(),
            PlotCommand.Create(),
            SwitchCommand.Create(),
            DemoCommand.Create(),
        };
        ListSubcommandsBriefly(root);
        return root;
    }

    /// <summary>
    /// A command's description is its whole manual (shown by <c>COMMAND --help</c>); in its parent's
    /// list of commands only the first line is shown, so <c>tuntap --help</c> stays a short index.
    /// </summary>
    private static void ListSubcommandsBriefly(RootCommand root)
    {
        foreach (var option in root.Options)
        {
            if (option is HelpOption { Action: HelpAction help } helpOption)
            {
                helpOption.Action = new BriefSubcommandsHelpAction(help);
            }
        }
    }

    public static async Task<int> RunAsync(string[] args)
    {
        if (Console.IsOutputRedirected)
        {
            // Logs and pipes: no wrapping at an imaginary 80-column terminal.
            Spectre.Console.AnsiConsole.Profile.Width = 4096;
        }

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
