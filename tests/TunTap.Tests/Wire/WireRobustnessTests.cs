using CsCheck;

namespace TunTap.Tests.Wire;

public class WireRobustnessTests
{
    [Fact]
    public void Every_view_and_accessor_is_safe_on_random_bytes()
    {
        Gen.Byte.Array[0, 120].Sample(bytes => WireProbe.ReadEverything(bytes), iter: 20_000);
    }

    [Fact]
    public void Every_view_and_accessor_is_safe_on_random_bytes_with_plausible_headers()
    {
        // Random bytes rarely look like a header; force version nibbles, EtherTypes and lengths
        // into the interesting ranges so the deeper accessors run too.
        var gen = Gen.Select(Gen.Byte.Array[0, 200], Gen.Int[0, 5], Gen.UShort[0, 220], Gen.Byte);
        gen.Sample((bytes, variant, length, nibble) =>
        {
            if (bytes.Length >= 40)
            {
                switch (variant)
                {
                    case 0:
                        bytes[0] = (byte)(0x40 | (nibble & 0x0F));
                        bytes[2] = (byte)(length >> 8);
                        bytes[3] = (byte)length;
                        break;
                    case 1:
                        bytes[0] = (byte)(0x60 | (nibble & 0x0F));
                        bytes[4] = (byte)(length >> 8);
                        bytes[5] = (byte)length;
                        bytes[6] = (byte)(nibble % 3 == 0 ? 0 : nibble % 3 == 1 ? 44 : 58);
                        break;
                    case 2:
                        bytes[12] = 0x81;
                        bytes[13] = 0x00;
                        break;
                    case 3:
                        bytes[4] = (byte)(length >> 8);
                        bytes[5] = (byte)length;
                        break;
                    case 4:
                        bytes[12] = nibble;
                        break;
                    default:
                        bytes[0] = 0;
                        bytes[1] = 1;
                        bytes[2] = 8;
                        bytes[3] = 0;
                        bytes[4] = 6;
                        bytes[5] = 4;
                        break;
                }
            }

            WireProbe.ReadEverything(bytes);
        }, iter: 20_000);
    }

    [Fact]
    public void Every_truncation_of_valid_packets_is_safe()
    {
        foreach (var packet in WirePackets.All())
        {
            for (var length = 0; length <= packet.Length; length++)
            {
                WireProbe.ReadEverything(packet[..length]);
            }
        }
    }
}
