using TunTap.Switching;

namespace TunTap.Tests.Switching;

public sealed class PortSetTests
{
    [Fact]
    public void Port_set_enumerates_what_was_added_in_order_across_words()
    {
        var set = new PortSet(200);
        int[] ids = [199, 0, 64, 63, 130];
        foreach (var id in ids)
        {
            set.Add(id);
        }

        set.Remove(63);
        var seen = new List<int>();
        foreach (var id in set)
        {
            seen.Add(id);
        }

        Assert.Equal([0, 64, 130, 199], seen);
        Assert.Equal(4, set.Count);
        Assert.True(set.Contains(130));
        Assert.False(set.Contains(200));
        Assert.False(set.Contains(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Add(200));
        set.Clear();
        Assert.True(set.IsEmpty);
    }

    [Fact]
    public void Port_vlan_membership_and_tagging()
    {
        var trunk = PortVlan.Trunk([30, 10, 20, 10], nativeVlan: 20);
        Assert.Equal([10, 30], trunk.TaggedVlans);
        Assert.True(trunk.IsMember(20));
        Assert.False(trunk.IsTagged(20));
        Assert.True(trunk.IsTagged(10));
        Assert.False(trunk.IsMember(4095));
        Assert.Equal("trunk:10,30+native:20", trunk.ToString());
        Assert.Equal("access:7", PortVlan.Access(7).ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => PortVlan.Access(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => PortVlan.Trunk([4095]));
        Assert.Throws<ArgumentException>(() => PortVlan.Trunk([]));
    }
}
