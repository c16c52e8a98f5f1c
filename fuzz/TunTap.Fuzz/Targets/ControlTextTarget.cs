using System.Text;
using TunTap.Switching;
using TunTap.WireGuard.Uapi;
using TunTap.Wire;

namespace TunTap.Fuzz.Targets;

/// <summary>
/// What local clients and peers send as text or small headers: WireGuard UAPI `set` requests,
/// switch control requests and VXLAN headers. Parsers answer with errors, never exceptions.
/// </summary>
internal sealed class ControlTextTarget : IFuzzTarget
{
    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        _ = VxlanHeader.TryCreate(data, out _);
        var text = Encoding.UTF8.GetString(data);
        _ = UapiParser.TryParseSet(text.Split('\n'), out _);
        foreach (var line in text.Split('\n'))
        {
            _ = SwitchControlRequest.TryParse(line, out _, out _);
        }
    }
}
