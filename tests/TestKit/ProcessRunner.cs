using System.Diagnostics;
using System.Text;

namespace TunTap.TestKit;

/// <summary>Runs external tools with a time limit and captures their output.</summary>
public static class ProcessRunner
{
    /// <summary>Runs <paramref name="file"/> with <paramref name="args"/> and waits at most <paramref name="timeout"/>.</summary>
    public static async Task<ProcessResult> RunAsync(string file, IEnumerable<string> args, TimeSpan? timeout = null, string? stdin = null, IDictionary<string, string>? environment = null)
    {
        var process = Start(file, args, environment, redirectInput: stdin is not null);
        var command = Describe(process.StartInfo);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin).ConfigureAwait(false);
            process.StandardInput.Close();
        }

        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            timedOut = true;
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().ConfigureAwait(false);
        }

        var result = new ProcessResult(command, timedOut ? -1 : process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false), timedOut);
        process.Dispose();
        return result;
    }

    /// <summary>Runs a command in the named network namespace (via <c>ip netns exec</c>).</summary>
    public static Task<ProcessResult> RunInAsync(string netns, string file, IEnumerable<string> args, TimeSpan? timeout = null) =>
        RunAsync("ip", ["netns", "exec", netns, file, .. args], timeout);

    /// <summary>Starts a long-running process whose output is collected in the background.</summary>
    public static BackgroundProcess StartBackground(string file, IEnumerable<string> args, IDictionary<string, string>? environment = null) =>
        new(Start(file, args, environment, redirectInput: true));

    internal static Process Start(string file, IEnumerable<string> args, IDictionary<string, string>? environment, bool redirectInput)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                info.Environment[key] = value;
            }
        }

        return Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
    }

    internal static string Describe(ProcessStartInfo info) => $"{info.FileName} {string.Join(' ', info.ArgumentList)}";
}
