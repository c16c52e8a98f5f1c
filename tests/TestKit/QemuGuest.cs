using System.Globalization;
using System.Text.RegularExpressions;

namespace TunTap.TestKit;

/// <summary>
/// A QEMU x86 guest (TCG, no KVM needed) booted from a <see cref="QemuKernel"/> and a
/// <see cref="QemuInitramfs"/>, its one NIC (virtio-net) a <c>-netdev stream</c> client of a unix
/// socket, its serial console on QEMU's stdin/stdout. Disposing kills QEMU.
/// </summary>
/// <remarks>
/// Under TCG on a loaded host the kernel's early timer check can fail (it panics: "IO-APIC + timer
/// doesn't work"); <c>no_timer_check</c> skips it, and <see cref="StartAsync"/> boots once more when
/// a guest still panics before its init runs.
/// </remarks>
public sealed partial class QemuGuest : IAsyncDisposable
{
    private readonly BackgroundProcess _process;

    private QemuGuest(string name, BackgroundProcess process)
    {
        Name = name;
        _process = process;
    }

    /// <summary>A name for messages.</summary>
    public string Name { get; }

    /// <summary>Everything the guest printed on its console so far (and QEMU's errors).</summary>
    public string Console => _process.StandardOutput + _process.StandardError;

    /// <summary>The QEMU binary.</summary>
    public static string Binary => "qemu-system-x86_64";

    /// <summary>
    /// Starts QEMU and waits until the guest's init runs (<c>TT-BOOT-OK</c>); a guest whose kernel
    /// panicked before that is started once more.
    /// </summary>
    /// <param name="name">A name for messages.</param>
    /// <param name="kernel">The kernel to boot.</param>
    /// <param name="initramfs">The initramfs (see <see cref="QemuInitramfs.GetOrBuildAsync"/>).</param>
    /// <param name="socketPath">The switch's <c>qemu:unix:</c> socket.</param>
    /// <param name="mac">The NIC's MAC address.</param>
    /// <param name="timeout">How long one boot may take.</param>
    public static async Task<QemuGuest> StartAsync(string name, QemuKernel kernel, string initramfs, string socketPath, string mac, TimeSpan timeout)
    {
        for (var attempt = 1; ; attempt++)
        {
            var guest = Start(name, kernel, initramfs, socketPath, mac);
            try
            {
                await guest.WaitForAnyAsync(["TT-BOOT-OK "], timeout).ConfigureAwait(false);
                return guest;
            }
            catch (InvalidOperationException) when (attempt < 2 && guest.Console.Contains("Kernel panic", StringComparison.Ordinal))
            {
                await guest.DisposeAsync().ConfigureAwait(false);
            }
            catch
            {
                await guest.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>Starts QEMU; the switch must already listen on <paramref name="socketPath"/>.</summary>
    /// <param name="name">A name for messages.</param>
    /// <param name="kernel">The kernel to boot.</param>
    /// <param name="initramfs">The initramfs (see <see cref="QemuInitramfs.GetOrBuildAsync"/>).</param>
    /// <param name="socketPath">The switch's <c>qemu:unix:</c> socket.</param>
    /// <param name="mac">The NIC's MAC address.</param>
    public static QemuGuest Start(string name, QemuKernel kernel, string initramfs, string socketPath, string mac)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        string[] args =
        [
            "-machine", "q35", "-accel", "tcg", "-m", "256", "-smp", "1", "-nographic", "-no-reboot",
            "-kernel", kernel.Image, "-initrd", initramfs, "-append", "console=ttyS0 quiet panic=-1 no_timer_check",
            "-nic", "none",
            "-netdev", $"stream,id=n0,server=off,addr.type=unix,addr.path={socketPath}",
            "-device", $"virtio-net-pci,netdev=n0,mac={mac},romfile=",
        ];
        return new QemuGuest(name, ProcessRunner.StartBackground(Binary, args));
    }

    /// <summary>Waits for the console line <c>TT-DHCP-OK ADDRESS/PREFIX</c> and returns the address.</summary>
    public async Task<string> WaitForDhcpAsync(TimeSpan timeout)
    {
        await WaitForAnyAsync(["TT-DHCP-OK ", "TT-DHCP-FAIL"], timeout).ConfigureAwait(false);
        var match = DhcpLine().Match(Console);
        return match.Success ? match.Groups[1].Value : throw new InvalidOperationException($"{Name} got no address by DHCP.\n{Console}");
    }

    /// <summary>Asks the guest to ping <paramref name="address"/> and waits for its verdict; true when it got replies.</summary>
    public async Task<bool> PingAsync(string address, TimeSpan timeout)
    {
        await _process.WriteLineAsync($"ping {address}").ConfigureAwait(false);
        var verdict = await WaitForAnyAsync([$"TT-PING-OK {address}", $"TT-PING-FAIL {address}"], timeout).ConfigureAwait(false);
        return verdict.StartsWith("TT-PING-OK", StringComparison.Ordinal);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _process.Signal(9);
        await _process.DisposeAsync().ConfigureAwait(false);
    }

    private async Task<string> WaitForAnyAsync(string[] markers, TimeSpan timeout)
    {
        string? found = null;
        await Wait.UntilAsync(
            () =>
            {
                var console = _process.StandardOutput;
                foreach (var marker in markers)
                {
                    if (console.Contains(marker, StringComparison.Ordinal))
                    {
                        found = marker;
                        return true;
                    }
                }

                return _process.HasExited;
            },
            timeout,
            () => $"{Name} never printed {string.Join(" or ", markers)}.\n{Console}").ConfigureAwait(false);
        return found ?? throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"QEMU ({Name}) exited with {_process.ExitCode} before printing {string.Join(" or ", markers)}.\n{Console}"));
    }

    [GeneratedRegex(@"TT-DHCP-OK ([0-9.]+)/\d+")]
    private static partial Regex DhcpLine();
}
