namespace TunTap.Emulation.Logging;

/// <summary>How a link event log is written (see <see cref="LinkEventLogWriter"/>).</summary>
public enum LinkEventLogFormat
{
    /// <summary>Comma-separated values with a header line (<see cref="LinkEventLogNames.CsvHeader"/>).</summary>
    Csv,

    /// <summary>One JSON object per line, with the CSV header's names as keys.</summary>
    JsonLines,
}
