using FsCheck;
using FsCheck.Fluent;
using ResponsesGateway.Core.Ids;

namespace ResponsesGateway.Tests.Properties;

/// <summary>
/// Minted response ids: the shape the store relies on, the chain part carried by every child, and enough randomness
/// that ids cannot be guessed (≥128 random bits in the part that names a response).
/// </summary>
public sealed class ResponseIdProperties
{
    private const int HexPart = 32;

    [Fact]
    public void MintedIds_AreWellFormed_AndChildrenKeepTheChain()
    {
        // A chain of any depth: every id well formed, every child in its root's chain, every own part new.
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), Prop.ForAll(Gen.Choose(1, 50).ToArbitrary(), depth =>
        {
            var root = ResponseIds.NewRoot();
            Assert.True(ResponseIds.TryGetChain(root, out var chain));
            var seen = new HashSet<string> { OwnPart(root) };
            var id = root;
            for (var i = 0; i < depth; i++)
            {
                id = ResponseIds.NewChild(id);
                Assert.True(ResponseIds.IsWellFormed(id), id);
                Assert.True(ResponseIds.TryGetChain(id, out var childChain) && childChain == chain, id);
                Assert.True(seen.Add(OwnPart(id)), $"own part repeated at depth {i}");
            }
            return true;
        }));
    }

    [Fact]
    public void NewChild_KeepsAMintedParentsChain_AndOtherwiseStartsAWellFormedRoot()
    {
        var parents = Gen.OneOf(ArbMap.Default.ArbFor<string>().Generator, Gen.Constant(ResponseIds.NewRoot()).Select(_ => ResponseIds.NewRoot()));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(1_000), Prop.ForAll(parents.ToArbitrary(), parent =>
        {
            var child = ResponseIds.NewChild(parent);
            var sameChain = ResponseIds.TryGetChain(parent, out var chain) && ChainPart(child) == chain;
            return ResponseIds.IsWellFormed(child) && sameChain == ResponseIds.IsWellFormed(parent);
        }));
    }

    [Fact]
    public void IsWellFormed_AcceptsExactlyPrefixAnd64LowercaseHex()
    {
        var alphabet = Gen.Elements("0123456789abcdefABCDEFgz_-~/".ToCharArray());
        var candidate = Gen.Zip(Gen.Elements("resp_", "resp", "RESP_", "msg_", ""), Gen.ArrayOf(alphabet).Select(c => new string(c)))
            .Select(t => t.Item1 + t.Item2);
        var nearValid = Gen.Zip(Gen.Choose(0, 63), alphabet).Select(t =>
        {
            var hex = ResponseIds.NewRoot()[5..].ToCharArray();
            hex[t.Item1] = t.Item2;
            return "resp_" + new string(hex);
        });

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(2_000), Prop.ForAll(Gen.OneOf(candidate, nearValid).ToArbitrary(), id =>
            ResponseIds.IsWellFormed(id) == (id.Length == 69 && id.StartsWith("resp_", StringComparison.Ordinal) && id[5..].All(char.IsAsciiHexDigitLower))));
    }

    [Fact]
    public void OneHundredThousandIds_NoCollisions_AndEveryHexDigitCarriesRandomness()
    {
        const int Count = 100_000;
        var roots = new HashSet<string>(Count, StringComparer.Ordinal);
        var children = new HashSet<string>(Count, StringComparer.Ordinal);
        var parent = ResponseIds.NewRoot();
        // Per hex position of the own part, which of the 16 digits occurred: a fixed or counter-like position would
        // show up as a position that never varies.
        var digitsSeen = new int[HexPart];
        for (var i = 0; i < Count; i++)
        {
            var root = ResponseIds.NewRoot();
            Assert.True(roots.Add(root), "root id collision");
            var child = ResponseIds.NewChild(parent);
            Assert.True(children.Add(OwnPart(child)), "child id collision");
            var own = OwnPart(root);
            for (var p = 0; p < HexPart; p++)
            {
                digitsSeen[p] |= 1 << Convert.ToInt32(own[p].ToString(), 16);
            }
        }
        // 32 hex digits = 128 bits per part, and every position took all 16 values: ≥128 random bits per id part.
        Assert.Equal(2 * HexPart, ResponseIds.NewRoot().Length - ResponseIds.ResponsePrefix.Length);
        Assert.All(digitsSeen, mask => Assert.Equal(0xFFFF, mask));
    }

    private static string ChainPart(string id) => id.Substring(5, HexPart);

    private static string OwnPart(string id) => id.Substring(5 + HexPart, HexPart);
}
