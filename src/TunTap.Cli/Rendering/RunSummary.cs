using TunTap.Devices;

namespace TunTap.Cli.Rendering;

/// <summary>The lines a long-running device command prints when it stops (tests and scripts parse them).</summary>
internal static class RunSummary
{
    /// <summary>
    /// Prints <c>summary: ...</c>, the capture file if any, and what happened to the device:
    /// removed when we created it, otherwise detached with the addresses we added removed.
    /// </summary>
    public static void Print(IReadOnlyList<CounterSet> counters, FileInfo? capture, ProvisionedDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        Console.Out.WriteLine($"summary: {LiveCounters.Line(counters)}");
        if (capture is not null)
        {
            Console.Out.WriteLine($"capture: {capture.FullName}");
        }

        Console.Out.WriteLine(device.Created ? $"{device.Device.Name}: removed" : $"{device.Device.Name}: detached (addresses added by us removed)");
    }
}
