namespace TunTap.Services;

/// <summary>
/// The pause a listening loop takes after a failed accept that is not a shutdown (e.g. EMFILE),
/// so a persistent error neither ends the service nor spins the CPU.
/// </summary>
public static class AcceptBackoff
{
    /// <summary>How long to wait before accepting again.</summary>
    public static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(100);

    /// <summary>Waits <see cref="Delay"/>; false when <paramref name="cancellationToken"/> fired instead.</summary>
    public static async Task<bool> WaitAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Delay, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
