namespace TunTap.Cli;

/// <summary>Turns exceptions into one clear line (plus a hint) on stderr and an exit code.</summary>
internal static class ErrorReporter
{
    /// <summary>Exit code for a user mistake or an environment problem the user can fix.</summary>
    public const int UserError = 1;

    /// <summary>Exit code for a bug: something we did not expect.</summary>
    public const int InternalError = 70; // EX_SOFTWARE

    public static int Report(Exception exception, bool verbose)
    {
        var error = Console.Error;
        switch (exception)
        {
            case OperationCanceledException:
                return 130;
            case TunTapException known:
                error.WriteLine($"tuntap: error: {known.Message}");
                if (known.Hint is not null)
                {
                    error.WriteLine($"tuntap: hint: {known.Hint}");
                }

                if (verbose)
                {
                    error.WriteLine(known.ToString());
                }

                return UserError;
            case UnauthorizedAccessException denied:
                error.WriteLine($"tuntap: error: {denied.Message}");
                error.WriteLine("tuntap: hint: this needs root or CAP_NET_ADMIN: run it with sudo");
                return UserError;
            default:
                error.WriteLine($"tuntap: internal error: {exception.GetType().Name}: {exception.Message}");
                error.WriteLine(verbose ? exception.ToString() : "tuntap: run again with --verbose for details, and please report it");
                return InternalError;
        }
    }
}
