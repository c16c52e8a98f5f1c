namespace TunTap.Switching;

/// <summary>
/// Port mirroring (SPAN): every frame received on, or forwarded to, one of the
/// <see cref="Sources"/> is copied once to the <see cref="Destination"/> port. A frame that enters
/// on a source is copied as it was received; one that only leaves through a source is copied as it
/// leaves the first such port (with that port's VLAN tagging). A frame between two sources is
/// copied once, not twice. The destination only listens: the switch forwards nothing else to it
/// and drops what it sends (<see cref="SwitchDropReason.MirrorDestination"/>).
/// </summary>
public sealed class MirrorSession
{
    /// <summary>A session copying the frames of <paramref name="sources"/> to <paramref name="destination"/>.</summary>
    /// <param name="sources">The mirrored port ids.</param>
    /// <param name="destination">The port id that gets the copies (-1: none, a capture file takes them).</param>
    /// <param name="maxPorts">One more than the largest port id.</param>
    /// <exception cref="ArgumentException">The destination is one of the sources, or there are no sources.</exception>
    public MirrorSession(IEnumerable<int> sources, int destination, int maxPorts)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentOutOfRangeException.ThrowIfLessThan(destination, -1);
        Sources = new PortSet(maxPorts);
        foreach (var source in sources)
        {
            if (source == destination)
            {
                throw new ArgumentException($"port {source} cannot mirror to itself", nameof(sources));
            }

            Sources.Add(source);
        }

        if (Sources.IsEmpty)
        {
            throw new ArgumentException("a mirror needs at least one source port", nameof(sources));
        }

        Destination = destination;
    }

    /// <summary>The mirrored ports.</summary>
    public PortSet Sources { get; }

    /// <summary>The port that gets the copies (-1 when a capture file takes them).</summary>
    public int Destination { get; }

    /// <summary>
    /// Whether the frame received on <paramref name="ingressPort"/> and forwarded to
    /// <paramref name="egressPorts"/> is copied: true with <paramref name="egressForm"/> -1 for the
    /// frame as received, or the egress port whose form of the frame is copied.
    /// </summary>
    public bool Selects(int ingressPort, PortSet egressPorts, out int egressForm) =>
        Selects(Sources, ingressPort, egressPorts, out egressForm);

    /// <summary>The rule of <see cref="Selects(int, PortSet, out int)"/> for any set of source ports.</summary>
    public static bool Selects(PortSet sources, int ingressPort, PortSet egressPorts, out int egressForm)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(egressPorts);
        egressForm = -1;
        if (sources.Contains(ingressPort))
        {
            return true;
        }

        foreach (var egress in egressPorts)
        {
            if (sources.Contains(egress))
            {
                egressForm = egress;
                return true;
            }
        }

        return false;
    }
}
