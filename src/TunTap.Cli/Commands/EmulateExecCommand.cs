using System.CommandLine;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using TunTap.Emulation.Topology;
using TunTap.Netlink;

namespace TunTap.Cli.Commands;

/// <summary><c>tuntap emulate exec HOST -- CMD...</c>: runs a command on a host of a running topology.</summary>
internal static class EmulateExecCommand
{
    public static Command Create()
    {
        var host = new Argument<string>("HOST") { Description = "The host (as named in the topology file)." };
        var commandLine = new Argument<string[]>("COMMAND") { Description = "The command and its arguments (after --).", Arity = ArgumentArity.OneOrMore };
        var name = EmulateUpCommand.NameOption("The emulation (default: the only one running).");
        var command = new Command("exec", """
            Run a command in a host's network namespace; its exit code is passed through.

            Standard input, output and error are the command's own; Ctrl-C goes to the command.

            Examples:
              tuntap emulate exec s1 -- ping -c 3 10.77.4.2
              tuntap emulate exec --name lab r1 -- ip route
            """)
        {
            host, commandLine, name,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var emulation = EmulationControlClient.Resolve(parse.GetValue(name));
            var hostName = parse.GetRequiredValue(host);
            var netns = TopologyDefinition.NamespaceOf(emulation, hostName);
            if (!TopologyParser.IsValidName(hostName, 32, allowDot: false) || !NetworkNamespace.Exists(netns))
            {
                throw new TunTapException($"emulation {emulation} has no host '{hostName}' (no namespace {netns})", "use a host name from the topology file; 'ip netns list' shows the namespaces");
            }

            var args = parse.GetRequiredValue(commandLine);
            var info = new ProcessStartInfo(args[0]) { UseShellExecute = false };
            for (var i = 1; i < args.Length; i++)
            {
                info.ArgumentList.Add(args[i]);
            }

            // The command gets the terminal's signals itself; we only wait for it.
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => context.Cancel = true);
            using var quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, context => context.Cancel = true);
            using var process = NetworkNamespace.Run(netns, () =>
            {
                try
                {
                    // A child starts in the network namespace of the thread that starts it.
                    return Process.Start(info) ?? throw new TunTapException($"could not start '{args[0]}'");
                }
                catch (Win32Exception e)
                {
                    throw new TunTapException($"could not start '{args[0]}': {e.Message}", "check the command's name and that it is installed", e);
                }
            });
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            return process.ExitCode;
        });
        return command;
    }
}
