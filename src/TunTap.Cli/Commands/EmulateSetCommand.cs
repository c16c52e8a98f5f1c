using System.CommandLine;
using TunTap.Emulation;
using TunTap.Emulation.Topology;

namespace TunTap.Cli.Commands;

/// <summary><c>tuntap emulate set [LINK] [--dir a2b|b2a|both] MODEL-OPTIONS...</c>: changes a running link's model.</summary>
internal static class EmulateSetCommand
{
    public static Command Create()
    {
        var link = new Argument<string?>("LINK") { Description = "The link's name (optional when the emulation has one link).", Arity = ArgumentArity.ZeroOrOne };
        var name = EmulateUpCommand.NameOption("The emulation (default: the only one running).");
        var direction = new Option<string>("--dir") { Description = "Which direction: a2b (packets end A sends), b2a, or both.", DefaultValueFactory = _ => "both", HelpName = "DIR" };
        direction.AcceptOnlyFromAmong("a2b", "b2a", "both");
        var replace = new Option<bool>("--replace") { Description = "Start from no impairment instead of the current model (by default the options given replace only what they name)." };
        var values = new (string Key, Option<string?> Option)[]
        {
            ("delay", Spec("--delay", "TIME", "One-way delay, e.g. 80ms.")),
            ("jitter", Spec("--jitter", "TIME", "Delay variation (with --delay).")),
            ("distribution", Spec("--distribution", "NAME", "Jitter distribution: uniform, normal, pareto, paretonormal.")),
            ("loss", Spec("--loss", "P%", "Random loss probability (0-100%).")),
            ("duplicate", Spec("--duplicate", "P%", "Duplication probability.")),
            ("corrupt", Spec("--corrupt", "P%", "Bit-flip probability.")),
            ("reorder", Spec("--reorder", "P%", "Reordering probability (needs a delay).")),
            ("rate", Spec("--rate", "RATE", "Bottleneck rate, e.g. 5mbit.")),
            ("queue", Spec("--queue", "PACKETS", "Bottleneck queue limit in packets.")),
            ("slot", Spec("--slot", "MIN [MAX]", "Slotted delivery, e.g. \"1ms 5ms packets 4\".")),
            ("trace", Spec("--trace", "FILE", "A Mahimahi trace for the bottleneck.")),
            ("spec", Spec("--spec", "SPEC", "Any link spec text (see docs/emulation.md).")),
        };
        var command = new Command("set", """
            Change a running link's model live, without restarting it or losing packets in flight.

            Works on the links of 'emulate up' and on the one of 'emulate link --name'. Packets already
            inside the link finish as they were, new ones take the new model. By default each option given replaces that option only (--delay keeps the rate, and
            drops the old jitter unless --jitter is given too; --rate and --trace replace each other);
            --replace starts from no impairment.

            Examples:
              tuntap emulate set bottleneck --delay 80ms               # both directions
              tuntap emulate set wifi --dir b2a --loss 10% --rate 2mbit
              tuntap emulate set --name left-right --delay 10ms        # the link of 'emulate link --name'
              tuntap emulate set bottleneck --replace                  # no impairment
            """)
        {
            link, name, direction, replace,
        };
        foreach (var (_, option) in values)
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var given = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, option) in values)
            {
                if (parse.GetValue(option) is { } value)
                {
                    // The emulation may run elsewhere: trace paths are the caller's.
                    var text = key == "trace" ? Path.GetFullPath(value) : value;
                    Check(option.Name, LinkSpecKeys.CheckText(key, text));
                    given[key] = text;
                }
            }

            if (given.ContainsKey("jitter") && !given.ContainsKey("delay"))
            {
                throw new TunTapException("--jitter needs --delay", "give both, e.g. --delay 50ms --jitter 5ms");
            }

            var replacing = parse.GetValue(replace);
            if (given.Count == 0 && !replacing)
            {
                throw new TunTapException("nothing to change", "give model options (e.g. --delay 80ms), or --replace for no impairment");
            }

            var spec = LinkSpecKeys.ToSpec(given);
            var emulation = EmulationControlClient.Resolve(parse.GetValue(name));
            var request = $"{(replacing ? "replace" : "set")} {parse.GetValue(link) ?? "-"} {parse.GetRequiredValue(direction)} {spec}".TrimEnd();
            using var response = await EmulationControlClient.RequestAsync(emulation, request, cancellationToken: cancellationToken).ConfigureAwait(false);
            var root = response.RootElement;
            Console.Out.WriteLine($"link {root.GetProperty("link").GetString()}: a->b: {Describe(root.GetProperty("a2b").GetString())}; b->a: {Describe(root.GetProperty("b2a").GetString())}");
            return 0;
        });
        return command;
    }

    private static Option<string?> Spec(string name, string helpName, string description) => new(name) { Description = description, HelpName = helpName };

    private static void Check(string option, string spec)
    {
        try
        {
            LinkSpecParser.Parse(spec);
        }
        catch (TunTapException e) when (e.Message.StartsWith("link spec: ", StringComparison.Ordinal))
        {
            throw new TunTapException($"{option}: {e.Message["link spec: ".Length..]}", e.Hint, e);
        }
    }

    private static string Describe(string? spec) => string.IsNullOrEmpty(spec) ? "no impairment" : spec;
}
