namespace TunTap.Cli.Rendering;

/// <summary>A named list of counters read fresh each time it is rendered.</summary>
/// <param name="Title">Shown above the counters.</param>
/// <param name="Read">Fills the list with (label, value) rows; called on the UI thread only.</param>
internal sealed record CounterSet(string Title, Action<List<(string Label, long Value)>> Read);
