using System.IO.Compression;
using System.Text;
using BenchmarkDotNet.Attributes;
using TunTap.Tunnel;

namespace TunTap.Benchmarks;

/// <summary>
/// Per-packet compression as <c>tuntap tunnel --compress</c> does it (Brotli quality 1, one-shot
/// span API) against the BCL's other codec, Deflate "fastest" through a DeflateStream per packet
/// (there is no span one-shot Deflate API): the reason docs/tunnel.md gives for choosing Brotli.
/// The Ratio column compares against Deflate; Allocated is per packet.
/// </summary>
[MemoryDiagnoser]
public class CompressionBenchmarks : IDisposable
{
    private readonly byte[] _packet = new byte[1440];
    private readonly byte[] _output = new byte[2048];
    private readonly MemoryStream _deflateOutput = new(new byte[4096]);

    [GlobalSetup]
    public void Setup()
    {
        // HTML-like text, the kind of payload compression helps with.
        var text = new StringBuilder();
        for (var i = 0; text.Length < _packet.Length; i++)
        {
            text.Append("<tr><td class=\"name\">item ").Append(i).Append("</td><td class=\"value\">").Append(i * 37 % 1000).Append("</td></tr>\n");
        }

        Encoding.ASCII.GetBytes(text.ToString(0, _packet.Length), _packet);
    }

    public void Dispose()
    {
        _deflateOutput.Dispose();
        GC.SuppressFinalize(this);
    }

    [Benchmark(Baseline = true)]
    public int Deflate_fastest_stream_per_packet()
    {
        _deflateOutput.Position = 0;
        using (var deflate = new DeflateStream(_deflateOutput, CompressionLevel.Fastest, leaveOpen: true))
        {
            deflate.Write(_packet);
        }

        return (int)_deflateOutput.Position;
    }

    [Benchmark]
    public int Brotli_q1_one_shot_as_the_tunnel_does()
    {
        PacketCompressor.TryCompress(_packet, _output, out var written);
        return written;
    }
}
