using System.CommandLine;
using TunTap.Emulation.Topology;
using TunTap.Netlink;

namespace TunTap.Cli.Commands;

/// <summary><c>tuntap emulate down FILE.toml</c>: stops a topology and removes what it created.</summary>
internal static class EmulateDownCommand
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The topology file given to 'emulate up'." };
        var name = EmulateUpCommand.NameOption("The name given to 'emulate up --name', if any.");
        var command = new Command("down", """
            Stop a topology brought up with 'tuntap emulate up' and remove everything it created.

            If it is running, it is asked to stop (over its control socket) and does its own clean-up;
            whatever is left (after a crash or kill -9: namespaces NAME-HOST, a stale control socket)
            is removed here. Idempotent: nothing to remove is not an error.

            Example:
              tuntap emulate down examples/dumbbell.toml
            """)
        {
            file, name,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var definition = TopologyParser.ParseFile(parse.GetRequiredValue(file).FullName, parse.GetValue(name));
            var socketPath = EmulationControlServer.SocketPathFor(definition.Name);
            var hosts = new List<string>();
            foreach (var host in definition.Hosts)
            {
                hosts.Add(host.Name);
            }

            if (EmulationControlServer.IsListening(socketPath))
            {
                using (await EmulationControlClient.RequestAsync(definition.Name, "stop", socketPath, cancellationToken).ConfigureAwait(false))
                {
                    Console.Out.WriteLine($"emulate: asked {definition.Name} to stop");
                }

                // It removes its own namespaces; wait for that (bounded), then remove what is left.
                var deadline = DateTime.UtcNow + StopTimeout;
                while (DateTime.UtcNow < deadline && (File.Exists(socketPath) || AnyExists(definition.Name, hosts)))
                {
                    await Task.Delay(50, cancellationToken).ConfigureAwait(false);
                }
            }

            foreach (var netns in RemoveLeftovers(definition.Name, hosts))
            {
                Console.Out.WriteLine($"namespace {netns}: removed");
            }

            if (File.Exists(socketPath) && !EmulationControlServer.IsListening(socketPath))
            {
                File.Delete(socketPath);
                Console.Out.WriteLine($"control socket {socketPath}: removed");
            }

            Console.Out.WriteLine($"emulate: {definition.Name} is down");
            return 0;
        });
        return command;
    }

    private static bool AnyExists(string name, List<string> hosts)
    {
        foreach (var host in hosts)
        {
            if (NetworkNamespace.Exists(TopologyDefinition.NamespaceOf(name, host)))
            {
                return true;
            }
        }

        return false;
    }

    private static IReadOnlyList<string> RemoveLeftovers(string name, List<string> hosts)
    {
        try
        {
            return TopologyRunner.Remove(name, hosts);
        }
        catch (TunTapException)
        {
            // Raced with the emulation removing the same namespace: look once more.
            return TopologyRunner.Remove(name, hosts);
        }
    }
}
