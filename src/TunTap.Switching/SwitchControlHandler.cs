using System.Globalization;
using System.Text.Json;
using TunTap.Services;

namespace TunTap.Switching;

/// <summary>
/// Answers control requests for a running switch: each request line (<see cref="SwitchControlRequest"/>)
/// gets one line of JSON, <c>{"ok":true,...}</c> or <c>{"ok":false,"error":"...","hint":"..."}</c>.
/// Free of sockets, so it is tested with in-memory ports; <see cref="SwitchControlServer"/> puts it
/// on a Unix socket. Garbage requests and failing ports are error responses, never exceptions.
/// </summary>
public sealed class SwitchControlHandler
{
    private readonly SwitchRunner _runner;
    private readonly Func<SwitchPortSpec, ISwitchPort> _openPort;
    private readonly Action<string>? _log;

    /// <summary>Creates a handler for the switch <paramref name="switchName"/>; <paramref name="openPort"/> opens ports for <c>port add</c>.</summary>
    public SwitchControlHandler(string switchName, SwitchRunner runner, Func<SwitchPortSpec, ISwitchPort> openPort, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(switchName);
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(openPort);
        SwitchName = switchName;
        _runner = runner;
        _openPort = openPort;
        _log = log;
    }

    /// <summary>The switch's name.</summary>
    public string SwitchName { get; }

    /// <summary>Runs one request line and returns the JSON response line (without a newline).</summary>
    public async Task<string> HandleAsync(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (!SwitchControlRequest.TryParse(line, out var request, out var error))
        {
            return Error(error, $"allowed: {SwitchControlRequest.AllowedForms}");
        }

        try
        {
            return request.Command switch
            {
                SwitchControlCommand.PortAdd => AddPort(request.Argument!),
                SwitchControlCommand.PortDel => await RemovePortAsync(request.Argument!).ConfigureAwait(false),
                SwitchControlCommand.PortUnblock => UnblockPort(request.Argument!),
                SwitchControlCommand.PortList => Write(w => WritePorts(w, counters: false)),
                SwitchControlCommand.Mac => Write(WriteMacs),
                _ => Write(w => WritePorts(w, counters: true)),
            };
        }
        catch (TunTapException e)
        {
            return Error(e.Message, e.Hint);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or ObjectDisposedException or IOException)
        {
            return Error(e.Message, null);
        }
    }

    private string AddPort(string text)
    {
        if (!SwitchPortSpec.TryParse(text, out var spec, out var error))
        {
            return Error(error, $"allowed: {SwitchPortSpec.AllowedForms}");
        }

        var port = _openPort(spec);
        int id;
        try
        {
            id = _runner.AddPort(port, spec.ToConfig(port.Name));
        }
        catch
        {
            port.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }

        _log?.Invoke($"port {port.Name} added (id {id})");
        var info = Find(id.ToString(CultureInfo.InvariantCulture));
        return Write(w =>
        {
            w.WritePropertyName("port");
            WritePort(w, info!, counters: false);
        });
    }

    private async Task<string> RemovePortAsync(string idOrName)
    {
        if (Find(idOrName) is not { } info)
        {
            return Error($"no port '{idOrName}'", "list them with 'tuntap switch port list " + SwitchName + "'");
        }

        await _runner.RemovePortAsync(info.Id).ConfigureAwait(false);
        _log?.Invoke($"port {info.Name} removed (id {info.Id})");
        return Write(w =>
        {
            w.WritePropertyName("removed");
            WritePort(w, info, counters: false);
        });
    }

    private string UnblockPort(string idOrName)
    {
        if (Find(idOrName) is not { } info)
        {
            return Error($"no port '{idOrName}'", "list them with 'tuntap switch port list " + SwitchName + "'");
        }

        if (info.BlockReason is null)
        {
            return Error($"port {info.Name} (id {info.Id}) is not blocked", "only a port loop protection blocked can be unblocked; 'tuntap switch port list " + SwitchName + "' shows the state");
        }

        _runner.Unblock(info.Id);
        _log?.Invoke($"port {info.Name} unblocked over the control socket (was: {info.BlockReason})");
        return Write(w =>
        {
            w.WritePropertyName("unblocked");
            WritePort(w, info with { BlockReason = null }, counters: false);
        });
    }

    /// <summary>A port by id (digits) or by name.</summary>
    private SwitchPortInfo? Find(string idOrName)
    {
        var ports = _runner.ListPorts();
        var byId = int.TryParse(idOrName, NumberStyles.None, CultureInfo.InvariantCulture, out var id);
        foreach (var port in ports)
        {
            if (byId ? port.Id == id : string.Equals(port.Name, idOrName, StringComparison.Ordinal))
            {
                return port;
            }
        }

        return null;
    }

    private void WritePorts(Utf8JsonWriter w, bool counters)
    {
        w.WriteString("switch", SwitchName);
        w.WriteNumber("macs", _runner.Switch.MacTable.Count);
        w.WriteStartArray("ports");
        foreach (var port in _runner.ListPorts())
        {
            WritePort(w, port, counters);
        }

        w.WriteEndArray();
    }

    private static void WritePort(Utf8JsonWriter w, SwitchPortInfo port, bool counters)
    {
        w.WriteStartObject();
        w.WriteNumber("id", port.Id);
        w.WriteString("name", port.Name);
        w.WriteString("vlan", port.Vlan.ToString());
        w.WriteString("blocked", port.BlockReason);
        w.WriteString("failure", port.Failure);
        if (counters)
        {
            var rows = new List<(string Label, long Value)>();
            port.ReadCounters(rows);
            w.WriteStartObject("counters");
            foreach (var (label, value) in rows)
            {
                w.WriteNumber(label.Replace(' ', '-'), value);
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    private void WriteMacs(Utf8JsonWriter w)
    {
        var names = new Dictionary<int, string>();
        foreach (var port in _runner.ListPorts())
        {
            names[port.Id] = port.Name;
        }

        var macs = new List<MacTableEntry>(_runner.ListMacs());
        macs.Sort((a, b) => a.Vlan != b.Vlan ? a.Vlan.CompareTo(b.Vlan) : a.Address.Value.CompareTo(b.Address.Value));
        w.WriteString("switch", SwitchName);
        w.WriteStartArray("macs");
        foreach (var entry in macs)
        {
            w.WriteStartObject();
            w.WriteString("mac", entry.Address.ToString());
            w.WriteNumber("vlan", entry.Vlan);
            w.WriteNumber("port", entry.Port);
            w.WriteString("port_name", names.GetValueOrDefault(entry.Port));
            w.WriteNumber("age_seconds", Math.Round(entry.Age.TotalSeconds, 3));
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static string Write(Action<Utf8JsonWriter> body) => ControlSocketServer.Success(body);

    private static string Error(string message, string? hint) => ControlSocketServer.Failure(message, hint);
}
