using System.Globalization;
using System.Text.RegularExpressions;

namespace TunTap.IntegrationTests.Cli;

/// <summary>Reads what long-running <c>tuntap</c> commands print, the way a script would.</summary>
internal static partial class CommandOutput
{
    /// <summary>Parses the last <c>summary: NAME: label=value ...</c> line into its counters.</summary>
    public static Dictionary<string, long> SummaryOf(string output)
    {
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith("summary:", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"no summary line in:\n{output}");
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (Match m in Field().Matches(line))
        {
            values[m.Groups[1].Value] = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        }

        return values;
    }

    /// <summary>
    /// Pings <paramref name="target"/> three times from inside <paramref name="ns"/>; all must be
    /// answered. One more round is allowed when some (not all) were lost: a datagram dropped on a
    /// loaded machine is not a broken path, a path that keeps losing is.
    /// </summary>
    public static async Task AssertPingAsync(string ns, string target)
    {
        TestKit.ProcessResult ping = null!;
        for (var attempt = 0; attempt < 2; attempt++)
        {
            ping = await TestKit.ProcessRunner.RunInAsync(ns, "ping", ["-c", "3", "-i", "0.2", "-W", "2", target], TimeSpan.FromSeconds(30));
            Assert.True(ping.ExitCode == 0, $"ping {target} failed:\n{ping.StandardOutput}\n{ping.StandardError}");
            if (ping.StandardOutput.Contains("3 received", StringComparison.Ordinal))
            {
                return;
            }
        }

        Assert.Contains("3 received", ping.StandardOutput, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"([A-Za-z-]+)=(\d+)")]
    private static partial Regex Field();
}
