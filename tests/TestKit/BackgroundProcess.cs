using System.Diagnostics;
using System.Text;

namespace TunTap.TestKit;

/// <summary>
/// A process running during a test. Output is collected as it comes; disposing sends SIGINT,
/// waits a moment for a clean exit, then kills the whole tree, so nothing outlives the test.
/// </summary>
public sealed class BackgroundProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Lock _gate = new();

    internal BackgroundProcess(Process process)
    {
        _process = process;
        Command = ProcessRunner.Describe(process.StartInfo);
        _process.OutputDataReceived += (_, e) => Append(_stdout, e.Data);
        _process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The command line, for messages.</summary>
    public string Command { get; }

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>True once the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The exit code (only after exit).</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Everything printed on stdout so far.</summary>
    public string StandardOutput
    {
        get
        {
            lock (_gate)
            {
                return _stdout.ToString();
            }
        }
    }

    /// <summary>Everything printed on stderr so far.</summary>
    public string StandardError
    {
        get
        {
            lock (_gate)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Writes a line to the process's stdin.</summary>
    public Task WriteLineAsync(string line) => _process.StandardInput.WriteLineAsync(line);

    /// <summary>Waits until stdout or stderr contains <paramref name="text"/>; throws with the output if it never does.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        await Wait.UntilAsync(
            () => StandardOutput.Contains(text, StringComparison.Ordinal) || StandardError.Contains(text, StringComparison.Ordinal) || HasExited,
            timeout,
            () => $"'{Command}' never printed '{text}'.\n{Describe()}").ConfigureAwait(false);
        if (!StandardOutput.Contains(text, StringComparison.Ordinal) && !StandardError.Contains(text, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"'{Command}' exited before printing '{text}'.\n{Describe()}");
        }
    }

    /// <summary>Sends a signal (e.g. 2 = SIGINT, 15 = SIGTERM) to the process.</summary>
    public void Signal(int signal)
    {
        if (!HasExited)
        {
            _ = Native.Kill(_process.Id, signal);
        }
    }

    /// <summary>Waits for the process to exit; kills it when it does not within <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
            throw new TimeoutException($"'{Command}' did not exit within {timeout}.\n{Describe()}");
        }

        _process.WaitForExit(); // flush the asynchronous output readers
        return _process.ExitCode;
    }

    /// <summary>Stdout and stderr for failure messages.</summary>
    public string Describe() => $"stdout:\n{StandardOutput}\nstderr:\n{StandardError}";

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Signal(2);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().ConfigureAwait(false);
            }
        }

        _process.Dispose();
    }

    private void Append(StringBuilder sb, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            sb.AppendLine(line);
        }
    }
}
