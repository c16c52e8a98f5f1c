using TunTap.Buffers;
using TunTap.Devices;

namespace TunTap.Switching;

/// <summary>A switch port on a TAP device: the kernel (or a VM attached to the TAP) is the peer.</summary>
public sealed class TapPort : ISwitchPort
{
    private readonly ITunDevice _device;
    private readonly IAsyncDisposable? _owner;

    /// <summary>A port over an open TAP device; disposing the port disposes <paramref name="owner"/> (or the device when none is given).</summary>
    /// <exception cref="ArgumentException">The device is not a TAP device.</exception>
    public TapPort(ITunDevice device, IAsyncDisposable? owner = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.Mode != DeviceMode.Tap)
        {
            throw new ArgumentException($"'{device.Name}' is a TUN device; a switch port needs TAP (Ethernet frames)", nameof(device));
        }

        _device = device;
        _owner = owner ?? device;
        Name = $"tap:{device.Name}";
    }

    /// <inheritdoc/>
    public string Name { get; private init; }

    /// <summary>True when the device did not exist before (it goes away with the port).</summary>
    public bool Created { get; private init; }

    /// <inheritdoc/>
    public long PeerGeneration => 0;

    /// <summary>Creates (or attaches to a persistent) TAP device named <paramref name="name"/>, in <paramref name="netns"/> if given, and brings it up.</summary>
    /// <exception cref="TunTapException">The device cannot be created (name taken, no permission, no such namespace).</exception>
    public static TapPort Create(string name, string? netns = null)
    {
        var device = ProvisionedDevice.Create(new DeviceProvisioning
        {
            Device = new TunDeviceOptions { Name = name, Mode = DeviceMode.Tap },
            Netns = netns,
            Up = true,
        });
        return new TapPort(device.Device, device)
        {
            Name = netns is null ? $"tap:{device.Device.Name}" : $"tap:{device.Device.Name}@{netns}",
            Created = device.Created,
        };
    }

    /// <inheritdoc/>
    public ValueTask<int> ReceiveBatchAsync(PacketBatch batch, CancellationToken cancellationToken) =>
        _device.ReadBatchAsync(batch, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<int> SendBatchAsync(PacketBatch batch, CancellationToken cancellationToken) =>
        _device.WriteBatchAsync(batch, cancellationToken);

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _owner!.DisposeAsync();
}
