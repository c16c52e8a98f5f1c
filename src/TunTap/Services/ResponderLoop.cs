using TunTap.Buffers;
using TunTap.Capture;
using TunTap.Devices;

namespace TunTap.Services;

/// <summary>
/// Reads batches from a device, lets a <see cref="PacketResponder"/> answer them, and writes the
/// replies back in one batch, optionally capturing both directions. Allocation-free per packet.
/// </summary>
public sealed class ResponderLoop
{
    private const int BatchSize = 64;
    private readonly ITunDevice _device;
    private readonly PacketResponder _responder;
    private readonly PcapWriter? _capture;
    private readonly TimeProvider _time;

    /// <summary>Creates the loop; <paramref name="capture"/> (if any) must match the device mode's link type.</summary>
    public ResponderLoop(ITunDevice device, PacketResponder responder, PcapWriter? capture = null, TimeProvider? time = null)
    {
        _device = device;
        _responder = responder;
        _capture = capture;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Runs until <paramref name="cancellationToken"/> fires; returns normally on cancellation.</summary>
    public async Task RunAsync(int maxPacketSize, CancellationToken cancellationToken)
    {
        using var incoming = new PacketBatch(BatchSize, maxPacketSize);
        using var replies = new PacketBatch(BatchSize, maxPacketSize);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await _device.ReadBatchAsync(incoming, cancellationToken).ConfigureAwait(false);
                AnswerBatch(incoming, replies);
                if (replies.Count > 0)
                {
                    await _device.WriteBatchAsync(replies, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Normal shutdown.
        }
        finally
        {
            _capture?.Flush();
        }
    }

    private void AnswerBatch(PacketBatch incoming, PacketBatch replies)
    {
        replies.Clear();
        var now = _time.GetUtcNow();
        for (var i = 0; i < incoming.Count; i++)
        {
            var packet = incoming[i];
            _capture?.Write(packet, now);
            var slot = replies.Count;
            var length = _responder.Process(packet, replies.GetWritable(slot));
            if (length > 0)
            {
                replies.SetLength(slot, length);
                replies.Count = slot + 1;
                _capture?.Write(replies[slot], now);
            }
        }
    }
}
