using TunTap.TestKit;

namespace TunTap.IntegrationTests.Cli;

/// <summary>Runs the built <c>tuntap</c> command the way a user would.</summary>
internal static class TuntapCli
{
    public static string Dll { get; } = FindDll();

    public static string DotnetHost => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    public static Task<ProcessResult> RunAsync(params string[] args) => RunAsync(TimeSpan.FromSeconds(60), args);

    public static Task<ProcessResult> RunAsync(TimeSpan timeout, params string[] args) =>
        ProcessRunner.RunAsync(DotnetHost, [Dll, .. args], timeout);

    public static Task<ProcessResult> RunAsUserAsync(int uid, params string[] args) =>
        ProcessRunner.RunAsync("setpriv", [$"--reuid={uid}", $"--regid={uid}", "--clear-groups", DotnetHost, Dll, .. args], TimeSpan.FromSeconds(60), environment: new Dictionary<string, string> { ["DOTNET_CLI_HOME"] = Path.GetTempPath(), ["HOME"] = Path.GetTempPath() });

    public static BackgroundProcess Start(params string[] args) =>
        ProcessRunner.StartBackground(DotnetHost, [Dll, .. args]);

    private static string FindDll()
    {
        foreach (var attribute in typeof(TuntapCli).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false))
        {
            if (attribute is System.Reflection.AssemblyMetadataAttribute { Key: "TuntapDll", Value: { } path })
            {
                return File.Exists(path) ? path : throw new FileNotFoundException($"the tuntap command is not built at {path}; build the solution first");
            }
        }

        throw new InvalidOperationException("TuntapDll metadata missing from the test assembly");
    }

    /// <summary>Asserts a user error: non-zero exit, one clear error line, no stack trace.</summary>
    public static void AssertUserError(ProcessResult result, string expected)
    {
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(expected, result.StandardError, StringComparison.Ordinal);
        Assert.Contains("tuntap: error:", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", result.StandardError, StringComparison.Ordinal);
    }
}
