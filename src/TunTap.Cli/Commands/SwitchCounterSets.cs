using System.Collections;
using TunTap.Cli.Rendering;
using TunTap.Switching;

namespace TunTap.Cli.Commands;

/// <summary>
/// The live counter sets of a running switch, one per port: re-read from the runner whenever they
/// are shown, so ports added or removed over the control socket appear and disappear; frozen
/// before the runner stops, so the summary shows the ports as they were at the end.
/// </summary>
internal sealed class SwitchCounterSets(SwitchRunner runner) : IReadOnlyList<CounterSet>
{
    private IReadOnlyList<CounterSet> _sets = [];
    private bool _frozen;

    public int Count => Current().Count;

    /// <summary>The ports when frozen (for the exit report).</summary>
    public IReadOnlyList<SwitchPortInfo> Ports { get; private set; } = [];

    public CounterSet this[int index] => Current()[index];

    /// <summary>Stops following the runner: from now on the last ports are shown.</summary>
    public void Freeze()
    {
        Current();
        _frozen = true;
    }

    public IEnumerator<CounterSet> GetEnumerator() => Current().GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private IReadOnlyList<CounterSet> Current()
    {
        if (_frozen)
        {
            return _sets;
        }

        var ports = runner.ListPorts();
        var sets = new List<CounterSet>(ports.Count);
        foreach (var info in ports)
        {
            sets.Add(new CounterSet(info.Name, rows => Read(info, runner.Switch, rows)));
        }

        Ports = ports;
        _sets = sets;
        return sets;
    }

    private static void Read(SwitchPortInfo info, LearningSwitch fabric, List<(string Label, long Value)> rows)
    {
        // The block state is read live; the rest of the snapshot is live counters already.
        var live = fabric.HasPort(info.Id) ? info with { BlockReason = fabric.GetBlockReason(info.Id) } : info;
        live.ReadCounters(rows);
    }
}
