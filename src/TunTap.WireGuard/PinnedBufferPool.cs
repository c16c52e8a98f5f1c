using System.Buffers;

namespace TunTap.WireGuard;

/// <summary>
/// Hands out arrays on the pinned object heap, so batched socket calls can keep pointers to them
/// without pinning each call. Meant for buffers rented once and kept (packet batches); returned
/// arrays are simply dropped.
/// </summary>
internal sealed class PinnedBufferPool : ArrayPool<byte>
{
    public static PinnedBufferPool Instance { get; } = new();

    public override byte[] Rent(int minimumLength) => GC.AllocateUninitializedArray<byte>(minimumLength, pinned: true);

    public override void Return(byte[] array, bool clearArray = false)
    {
        ArgumentNullException.ThrowIfNull(array);
        if (clearArray)
        {
            Array.Clear(array);
        }
    }
}
