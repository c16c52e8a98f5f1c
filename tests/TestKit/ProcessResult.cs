namespace TunTap.TestKit;

/// <summary>What a finished process printed and how it exited.</summary>
public sealed record ProcessResult(string Command, int ExitCode, string StandardOutput, string StandardError, bool TimedOut)
{
    /// <summary>Throws with everything the process printed unless it exited 0.</summary>
    public ProcessResult EnsureSuccess()
    {
        if (ExitCode != 0 || TimedOut)
        {
            throw new InvalidOperationException(
                $"'{Command}' {(TimedOut ? "timed out" : $"exited {ExitCode}")}\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}");
        }

        return this;
    }
}
