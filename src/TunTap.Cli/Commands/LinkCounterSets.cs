using System.Diagnostics;
using TunTap.Cli.Rendering;
using TunTap.Emulation;

namespace TunTap.Cli.Commands;

/// <summary>The counters of one direction of an emulated link, as shown by <c>tuntap emulate link</c> and <c>tuntap demo</c>.</summary>
internal static class LinkCounterSets
{
    /// <summary>Everything the direction counts: packets, drops by cause, queue depth, throughput and departure lateness.</summary>
    public static CounterSet Full(LinkPump pump, string title)
    {
        var meter = new ThroughputMeter(Stopwatch.Frequency, TimeSpan.FromSeconds(1));
        return new CounterSet(title, rows =>
        {
            var device = pump.Counters;
            rows.Add(("offered", device.ReadPackets));
            pump.ReadModelCounters(model =>
            {
                ReadDeliveredAndDrops(model, rows);
                rows.Add(("duplicated", model.Duplicated));
                rows.Add(("corrupted", model.Corrupted));
                rows.Add(("reordered", model.Reordered));
                rows.Add(("in-flight", model.InFlightPackets));
                rows.Add(("queue packets", model.QueuePackets));
                rows.Add(("queue bytes", model.QueueBytes));
            });
            rows.Add(("written", device.WrittenPackets));
            rows.Add(("written bytes", device.WrittenBytes));
            rows.Add(("rejected", device.RejectedWrites));
            rows.Add(("throughput kbit/s", meter.Sample(device.WrittenBytes, Stopwatch.GetTimestamp()) / 1000));
            rows.Add(("late us mean", (long)device.MeanLateness.TotalMicroseconds));
            rows.Add(("late us max", (long)device.MaxLateness.TotalMicroseconds));
        });
    }

    /// <summary>Packets in, delivered, dropped by cause and written: what a seeded run repeats exactly (no timings).</summary>
    public static CounterSet Packets(LinkPump pump, string title) => new(title, rows =>
    {
        rows.Add(("offered", pump.Counters.ReadPackets));
        pump.ReadModelCounters(model => ReadDeliveredAndDrops(model, rows));
        rows.Add(("written", pump.Counters.WrittenPackets));
    });

    private static void ReadDeliveredAndDrops(LinkCounters model, List<(string Label, long Value)> rows)
    {
        rows.Add(("delivered", model.Delivered));
        rows.Add(("dropped loss", model.Dropped(DropReason.Loss)));
        rows.Add(("dropped queue-full", model.Dropped(DropReason.QueueFull)));
        rows.Add(("dropped codel", model.Dropped(DropReason.CoDel)));
        rows.Add(("dropped delay-limit", model.Dropped(DropReason.DelayLimit)));
        rows.Add(("dropped output-full", model.Dropped(DropReason.OutputFull)));
    }
}
