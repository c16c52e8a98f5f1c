using System.CommandLine;

namespace TunTap.Cli.Commands;

/// <summary><c>tuntap emulate</c>: network emulation between namespaces, in user space.</summary>
internal static class EmulateCommand
{
    public static Command Create() => new("emulate", "Emulate network links (delay, jitter, loss, rate limits, traces) between network namespaces, in user space.")
    {
        EmulateLinkCommand.Create(),
        EmulateUpCommand.Create(),
        EmulateExecCommand.Create(),
        EmulateSetCommand.Create(),
        EmulateDownCommand.Create(),
    };
}
