namespace TunTap.Switching;

/// <summary>The moving parts of one port of a <see cref="SwitchRunner"/>: its I/O, queue and loops.</summary>
internal sealed class SwitchPortRunner(int id, ISwitchPort port, EgressQueue queue, SwitchPortCounters counters)
{
    public SwitchPortCounters Counters { get; } = counters;

    public int Id { get; } = id;

    public ISwitchPort Port { get; } = port;

    public EgressQueue Queue { get; } = queue;

    public CancellationTokenSource Stop { get; } = new();

    public Task Receiving { get; set; } = Task.CompletedTask;

    public Task Sending { get; set; } = Task.CompletedTask;

    public string? Failure { get; set; }
}
