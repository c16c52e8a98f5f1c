using Xunit;

namespace TunTap.TestKit;

/// <summary>
/// Preconditions of integration tests. Outside CI a missing precondition skips the test with
/// its reason; under <c>CI=true</c> it fails it, because a skipped test proves nothing.
/// </summary>
public static class Requires
{
    /// <summary>True when running under CI (<c>CI=true</c>).</summary>
    public static bool UnderCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Skips (or fails under CI) unless the test runs as root.</summary>
    public static void Root()
    {
        if (Environment.UserName != "root" && GetEuid() != 0)
        {
            Unmet("needs root (network namespaces and TUN/TAP devices)");
        }
    }

    /// <summary>Skips (or fails under CI) unless <paramref name="tool"/> is on PATH.</summary>
    public static void Tool(string tool)
    {
        if (ToolPath(tool) is null)
        {
            Unmet($"needs '{tool}' on PATH (scripts/test.sh installs it)");
        }
    }

    /// <summary>Finds <paramref name="tool"/> on PATH, or null.</summary>
    public static string? ToolPath(string tool)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':'))
        {
            var candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        foreach (var dir in new[] { "/usr/sbin", "/sbin", "/usr/bin", "/bin" })
        {
            var candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static void Unmet(string reason)
    {
        if (UnderCi)
        {
            Assert.Fail($"precondition unmet under CI=true (a skip would hide it): {reason}");
        }

        Assert.Skip(reason);
    }

    private static uint GetEuid()
    {
        // /proc/self/status: "Uid:\treal\teffective\t..."
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("Uid:", StringComparison.Ordinal))
            {
                var parts = line.Split('\t', StringSplitOptions.RemoveEmptyEntries);
                return uint.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return uint.MaxValue;
    }
}
