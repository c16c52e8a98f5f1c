using System.Buffers;
using TunTap.Devices;

namespace TunTap.Emulation;

/// <summary>
/// Joins two devices through two <see cref="LinkModel"/>s, one per direction: what end A's device
/// sends goes through <see cref="AToB"/> and comes out of end B's device, and back through
/// <see cref="BToA"/>. For two TUN devices on one subnet (A 10.x.0.1/24, B 10.x.0.2/24) this is a
/// point-to-point IP link that real programs on each side use unchanged. Both models must run on
/// the clock of <see cref="EmulatedLinkOptions.TimeProvider"/>.
/// </summary>
/// <example>
/// <code>
/// var time = TimeProvider.System;
/// using var link = new EmulatedLink(tunA, tunB,
///     LinkModel.Create(LinkSpecParser.Parse("delay 50ms loss 1%"), time, seed: 1),
///     LinkModel.Create(LinkSpecParser.Parse("delay 50ms"), time, seed: 2));
/// await link.RunAsync(cancellationToken);
/// </code>
/// </example>
public sealed class EmulatedLink : IDisposable
{
    private const int BuffersPerDirection = 4096;
    private readonly SharedCapture? _captureA;
    private readonly SharedCapture? _captureB;
    private int _started;

    /// <summary>Wires <paramref name="a"/> and <paramref name="b"/> through the two models.</summary>
    public EmulatedLink(ITunDevice a, ITunDevice b, LinkModel aToB, LinkModel bToA, EmulatedLinkOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(aToB);
        ArgumentNullException.ThrowIfNull(bToA);
        if (ReferenceEquals(aToB, bToA))
        {
            throw new ArgumentException("Each direction needs its own LinkModel.", nameof(bToA));
        }

        options ??= new EmulatedLinkOptions();
        options.Validate();

        // One writer thread returns what a reader thread rented: a pool per direction that holds
        // plenty of buffers keeps that allocation-free (the shared pool's per-thread caches do not).
        aToB.UseBufferPool(ArrayPool<byte>.Create(options.MaxPacketSize, BuffersPerDirection));
        bToA.UseBufferPool(ArrayPool<byte>.Create(options.MaxPacketSize, BuffersPerDirection));
        Options = options;
        _captureA = options.CaptureA is { } captureA ? new SharedCapture(captureA, options.TimeProvider) : null;
        _captureB = options.CaptureB is { } captureB ? new SharedCapture(captureB, options.TimeProvider) : null;
        AToB = new LinkPump("a->b", a, b, aToB, options, _captureA, _captureB);
        BToA = new LinkPump("b->a", b, a, bToA, options, _captureB, _captureA);
    }

    /// <summary>The options the link runs with.</summary>
    public EmulatedLinkOptions Options { get; }

    /// <summary>Packets A sends, on their way to B.</summary>
    public LinkPump AToB { get; }

    /// <summary>Packets B sends, on their way to A.</summary>
    public LinkPump BToA { get; }

    /// <summary>
    /// Moves packets both ways until <paramref name="cancellationToken"/> fires (then returns
    /// normally; packets still inside the link are dropped) or a device fails (then stops the other
    /// direction too and throws its error). Runs once.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The link is already running or has run.");
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task[] tasks = [.. AToB.Start(stop.Token), .. BToA.Start(stop.Token)];
        try
        {
            // Whatever ends first (cancellation or a failing device) ends all four loops.
            await Task.WhenAny(tasks).ConfigureAwait(false);
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        finally
        {
            _captureA?.Flush();
            _captureB?.Flush();
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        AToB.Dispose();
        BToA.Dispose();
    }
}
