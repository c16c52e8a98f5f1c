using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace TunTap.Cli;

/// <summary>
/// Writes the standard help, but lists subcommands by the first line of their description only:
/// the full description is the subcommand's own manual page (<c>tuntap COMMAND --help</c>).
/// </summary>
internal sealed class BriefSubcommandsHelpAction(HelpAction standard) : SynchronousCommandLineAction
{
    public override int Invoke(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        var subcommands = parseResult.CommandResult.Command.Subcommands;
        var full = new string?[subcommands.Count];
        for (var i = 0; i < subcommands.Count; i++)
        {
            full[i] = subcommands[i].Description;
            subcommands[i].Description = full[i]?.Split('\n', 2)[0].Trim();
        }

        try
        {
            return standard.Invoke(parseResult);
        }
        finally
        {
            for (var i = 0; i < subcommands.Count; i++)
            {
                subcommands[i].Description = full[i];
            }
        }
    }
}
