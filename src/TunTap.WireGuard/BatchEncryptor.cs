using System.Runtime.ExceptionServices;

namespace TunTap.WireGuard;

/// <summary>
/// Encrypts the datagrams of an <see cref="OutgoingBatch"/> (counters already claimed in order by
/// the reader), optionally on two threads: the caller takes the first half, a helper thread the
/// second, and the call returns when both are done, so the batch is sent in order as before.
/// Small batches are not split (waking the helper costs more than it saves). The caller's thread
/// encrypts on lane 0 of each key, the helper on lane 1: only one encryptor per device may exist.
/// </summary>
internal sealed class BatchEncryptor : IDisposable
{
    /// <summary>Datagrams below which a batch is encrypted on the caller's thread alone.</summary>
    public const int MinimumForSplit = 16;

    private readonly Thread? _helper;
    private readonly SemaphoreSlim _start = new(0);
    private readonly ManualResetEventSlim _done = new(false);
    private OutgoingBatch? _job;
    private int _from;
    private int _to;
    private Exception? _error;
    private volatile bool _stopping;

    /// <summary>Creates the encryptor; with <paramref name="parallel"/> it starts its helper thread.</summary>
    public BatchEncryptor(bool parallel)
    {
        if (parallel)
        {
            _helper = new Thread(Work) { IsBackground = true, Name = "wg-encrypt" };
            _helper.Start();
        }
    }

    /// <summary>True when batches are split over two threads.</summary>
    public bool IsParallel => _helper is not null;

    /// <summary>Encrypts every datagram of <paramref name="batch"/>; returns when all are done.</summary>
    public void Encrypt(OutgoingBatch batch)
    {
        var count = batch.Datagrams.Count;
        if (_helper is null || count < MinimumForSplit)
        {
            batch.EncryptRange(0, 0, count);
            return;
        }

        var split = count / 2;
        _job = batch;
        _from = split;
        _to = count;
        _error = null;
        _done.Reset();
        _start.Release();
        try
        {
            batch.EncryptRange(0, 0, split);
        }
        finally
        {
            _done.Wait();
            _job = null;
        }

        if (_error is { } error)
        {
            ExceptionDispatchInfo.Throw(error);
        }
    }

    private void Work()
    {
        while (true)
        {
            _start.Wait();
            if (_stopping)
            {
                return;
            }

            try
            {
                _job!.EncryptRange(1, _from, _to);
            }
            catch (Exception e)
            {
                _error = e;
            }
            finally
            {
                _done.Set();
            }
        }
    }

    /// <summary>Stops the helper thread.</summary>
    public void Dispose()
    {
        _stopping = true;
        _start.Release();
        _helper?.Join();
        _start.Dispose();
        _done.Dispose();
    }
}
