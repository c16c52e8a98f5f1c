using System.ComponentModel;
using System.Diagnostics;
using Spectre.Console;
using TunTap.Netlink;

namespace TunTap.Cli.Commands;

/// <summary>
/// Starts tools (ping, iperf3) inside network namespaces for the demo, and makes sure none outlives
/// it: a process left running would keep its namespace alive after the namespace is deleted.
/// </summary>
internal sealed class NamespaceProcesses : IAsyncDisposable
{
    private readonly List<Process> _started = [];

    /// <summary>Runs a tool, echoing the command and its output indented; returns its exit code.</summary>
    public async Task<int> RunAsync(string netns, string file, string[] args, CancellationToken cancellationToken)
    {
        AnsiConsole.MarkupLine($"    [grey]$ {Markup.Escape(file)} {Markup.Escape(string.Join(' ', args))}[/]");
        var output = new List<string>();
        return await RunCapturedAsync(netns, file, args, output, cancellationToken, echo: true).ConfigureAwait(false);
    }

    /// <summary>Runs a tool and collects its output lines (stdout and stderr) into <paramref name="output"/>.</summary>
    public async Task<int> RunCapturedAsync(string netns, string file, string[] args, List<string> output, CancellationToken cancellationToken, bool echo = false)
    {
        using var process = Start(netns, file, args, redirect: true);
        var gate = new Lock();
        void Collect(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (gate)
            {
                output.Add(line);
                if (echo)
                {
                    AnsiConsole.WriteLine("    " + line);
                }
            }
        }

        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) => Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await StopAsync(process).ConfigureAwait(false);
            return 130;
        }

        return process.ExitCode;
    }

    /// <summary>Starts a tool in the background (output discarded); it is stopped on dispose at the latest.</summary>
    public Process Start(string netns, string file, string[] args) => Start(netns, file, args, redirect: false);

    /// <summary>
    /// Starts a tool in the background and waits until it prints a line containing <paramref name="ready"/>
    /// (e.g. iperf3's "Server listening"), so a client started next does not race it; fails if the tool
    /// exits or stays silent for <paramref name="timeout"/>.
    /// </summary>
    public async Task<Process> StartReadyAsync(string netns, string file, string[] args, string ready, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = Start(netns, file, args, redirect: true);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains(ready, StringComparison.Ordinal) == true)
            {
                seen.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync(cancellationToken);
        var first = await Task.WhenAny(seen.Task, exited, Task.Delay(timeout, cancellationToken)).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        if (first != seen.Task)
        {
            throw new TunTapException(process.HasExited
                ? $"'{file}' exited (code {process.ExitCode}) before it was ready"
                : $"'{file}' did not print '{ready}' within {timeout.TotalSeconds:0} s");
        }

        return process;
    }

    /// <summary>Gives a process a moment to finish on its own, then kills it.</summary>
    public static async Task StopAsync(Process process)
    {
        ArgumentNullException.ThrowIfNull(process);
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            await process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _started)
        {
            try
            {
                await StopAsync(process).ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                // Never started or already reaped.
            }

            process.Dispose();
        }

        _started.Clear();
    }

    private Process Start(string netns, string file, string[] args, bool redirect)
    {
        var info = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // A child inherits the network namespace of the thread that starts it.
        var process = NetworkNamespace.Run(netns, () =>
        {
            try
            {
                return Process.Start(info) ?? throw new TunTapException($"could not start '{file}'");
            }
            catch (Win32Exception e)
            {
                throw new TunTapException($"could not start '{file}': {e.Message}", $"install it: apt-get install {(file == "ping" ? "iputils-ping" : file)}", e);
            }
        });
        _started.Add(process);
        if (!redirect)
        {
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        return process;
    }
}
