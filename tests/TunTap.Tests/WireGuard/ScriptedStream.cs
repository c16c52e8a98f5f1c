namespace TunTap.Tests.WireGuard;

/// <summary>A duplex stream for driving a protocol server: reads come from a fixed script, writes are collected.</summary>
internal sealed class ScriptedStream(byte[] input) : Stream
{
    private readonly MemoryStream _input = new(input);

    public MemoryStream Output { get; } = new();

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => _input.Read(buffer, offset, count);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => Output.Write(buffer, offset, count);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _input.Dispose();
            Output.Dispose();
        }

        base.Dispose(disposing);
    }
}
