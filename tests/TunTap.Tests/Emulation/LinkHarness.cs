using TunTap.Emulation;

namespace TunTap.Tests.Emulation;

/// <summary>A delivered packet as seen by the tests.</summary>
internal readonly record struct Delivery(long Sequence, long Arrival, long Departure, int Length, byte[] Bytes);

/// <summary>Drives a link like the runner's timer loop will: wakes exactly at NextDeparture.</summary>
internal static class LinkHarness
{
    public const long Frequency = 1_000_000; // microsecond ticks

    public static long Ms(double ms) => (long)(ms * Frequency / 1000);

    public static LinkModel Create(LinkModelOptions options, ulong seed = 42) => LinkModel.Create(options, Frequency, 0, seed);

    public static List<Delivery> Run(LinkModel model, IEnumerable<(long Time, int Size)> arrivals, bool keepBytes = false)
    {
        var delivered = new List<Delivery>();
        foreach (var (time, size) in arrivals)
        {
            DrainBefore(model, time, delivered, keepBytes, inclusive: false);
            var packet = new byte[size];
            for (var i = 0; i < size; i++)
            {
                packet[i] = (byte)(i * 7);
            }

            model.Enqueue(packet, time);
        }

        DrainBefore(model, long.MaxValue, delivered, keepBytes, inclusive: true);
        return delivered;
    }

    public static void DrainBefore(LinkModel model, long limit, List<Delivery> into, bool keepBytes, bool inclusive)
    {
        for (var guard = 0; guard < 10_000_000; guard++)
        {
            if (model.NextDeparture is not { } next || next > limit || (!inclusive && next == limit))
            {
                return;
            }

            while (model.TryDequeue(next, out var packet))
            {
                Assert.True(packet.DepartureTicks <= next, "a packet left after the time it was dequeued at");
                into.Add(new Delivery(packet.Sequence, packet.ArrivalTicks, packet.DepartureTicks, packet.Length, keepBytes ? packet.Span.ToArray() : []));
                model.Release(packet);
            }
        }

        Assert.Fail("the link did not settle");
    }

    public static IEnumerable<(long Time, int Size)> Periodic(int count, long spacingTicks, int size = 100, long start = 0)
    {
        for (var i = 0; i < count; i++)
        {
            yield return (start + (i * spacingTicks), size);
        }
    }

    public static (double Mean, double StdDev) Stats(IReadOnlyList<double> values)
    {
        double mean = 0;
        foreach (var v in values)
        {
            mean += v;
        }

        mean /= values.Count;
        double variance = 0;
        foreach (var v in values)
        {
            variance += (v - mean) * (v - mean);
        }

        return (mean, Math.Sqrt(variance / values.Count));
    }

    public static double Lag1Correlation(IReadOnlyList<double> values)
    {
        var (mean, sd) = Stats(values);
        double sum = 0;
        for (var i = 1; i < values.Count; i++)
        {
            sum += (values[i] - mean) * (values[i - 1] - mean);
        }

        return sum / (values.Count - 1) / (sd * sd);
    }
}
