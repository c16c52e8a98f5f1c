using System.Runtime.ExceptionServices;
using TunTap.Interop;

namespace TunTap.IntegrationTests.Devices;

/// <summary>
/// Runs code inside a named namespace on a dedicated thread. Stand-in for
/// <c>NetworkNamespace.Run</c>, whose version on this branch opens the namespace with a
/// FileStream (fails with ESPIPE on nsfs); the netlink branch fixes it, then this can go.
/// </summary>
internal static class InNamespace
{
    public static T Run<T>(string netns, Func<T> action)
    {
        using var handle = File.OpenHandle($"/run/netns/{netns}", FileMode.Open, FileAccess.Read);
        var fd = (int)handle.DangerousGetHandle();
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                Syscall.Check(Libc.Setns(fd, Libc.CLONE_NEWNET), $"setns {netns}");
                result = action();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        })
        { IsBackground = true };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }

    public static void Run(string netns, Action action) => Run(netns, () =>
    {
        action();
        return 0;
    });
}
