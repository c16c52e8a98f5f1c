using TunTap.Capture;

namespace TunTap.Cli.Commands;

/// <summary>A pcap file opened for a command, with user-facing errors for bad paths.</summary>
internal sealed class CaptureFile : IAsyncDisposable
{
    private readonly FileStream _stream;

    private CaptureFile(FileStream stream, PcapWriter writer)
    {
        _stream = stream;
        Writer = writer;
    }

    public PcapWriter Writer { get; }

    public static CaptureFile Create(string path, PcapLinkType linkType)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TunTapException($"cannot write the capture file '{path}': {e.Message}", "check that the directory exists and is writable", e);
        }

        return new CaptureFile(stream, new PcapWriter(stream, linkType));
    }

    public async ValueTask DisposeAsync()
    {
        Writer.Dispose();
        await _stream.DisposeAsync().ConfigureAwait(false);
    }
}
