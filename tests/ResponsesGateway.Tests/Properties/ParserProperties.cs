using System.Numerics;
using System.Text;
using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using ResponsesGateway.Core.Errors;
using ResponsesGateway.Core.Pipeline;
using ResponsesGateway.Core.Requests;
using ResponsesGateway.Core.Routing;

namespace ResponsesGateway.Tests.Properties;

/// <summary>
/// Property-based tests (FsCheck) of the parsers that see client input first: whatever comes in, the answer is a value
/// or a <see cref="GatewayException"/> with a 4xx, never any other exception (which the HTTP edge would turn into a 500).
/// </summary>
public sealed class ParserProperties
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(2_000).WithQuietOnSuccess(true);

    [Fact]
    public void CreateRequestParser_AnyBytes_GivesARequestOrA4xxGatewayException()
    {
        var bytes = Gen.OneOf(
            ArbMap.Default.ArbFor<byte[]>().Generator,
            JsonGen.Body.Select(Encoding.UTF8.GetBytes),
            Gen.Zip(JsonGen.Body, Gen.ArrayOf(Gen.Zip(Gen.Choose(0, int.MaxValue), Gen.Choose(0, 255)))).Select(t => JsonGen.Mutate(t.Item1, t.Item2)));

        Check.One(Runs, Prop.ForAll(bytes.ToArbitrary(), body =>
        {
            try
            {
                var request = CreateResponseRequestParser.Parse(body);
                return request.Model.Length is > 0 and <= 256 && request.Input is not null;
            }
            catch (GatewayException e)
            {
                return e.StatusCode is >= 400 and < 500 && !string.IsNullOrEmpty(e.Error.Message) && !string.IsNullOrEmpty(e.Error.Type);
            }
        }));
    }

    [Fact]
    public void CreateRequestParser_FindsBodiesThatReachTheEndOfValidation()
    {
        // Guards the generator above: enough generated bodies must be valid, or the property only tests the JSON reader.
        var samples = JsonGen.Body.Sample(30, 200).ToArray();
        var valid = samples.Count(json =>
        {
            try
            {
                CreateResponseRequestParser.Parse(Encoding.UTF8.GetBytes(json));
                return true;
            }
            catch (GatewayException)
            {
                return false;
            }
        });
        Assert.InRange(valid, samples.Length / 20, samples.Length * 19 / 20);
    }

    [Fact]
    public void InputItemsQuery_AnyQuery_MatchesTheReference()
    {
        var text = Gen.OneOf(
            Gen.Constant<string?>(null), Gen.Elements<string?>("", "0", "1", "20", "100", "101", "007", "-1", "+5", " 5", "5 ", "1e2", "٣", "99999999999999999999", "asc", "desc", "DESC", "Asc"),
            Gen.Choose(-5, 200).Select(n => (string?)n.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ArbMap.Default.ArbFor<string>().Generator.Select(s => (string?)s));
        var query = Gen.Zip(Gen.Zip(text, text), Gen.Zip(text, text));

        Check.One(Runs, Prop.ForAll(query.ToArbitrary(), q =>
        {
            var ((limit, order), (after, before)) = q;
            var limitOk = limit is null || (limit.Length > 0 && limit.All(char.IsAsciiDigit) && BigInteger.Parse(limit) is var n && n >= 1 && n <= 100);
            var orderOk = order is null or "asc" or "desc";
            try
            {
                var parsed = InputItemsQuery.Parse(limit, order, after, before);
                return limitOk && orderOk
                    && parsed.Limit == (limit is null ? 20 : int.Parse(limit, System.Globalization.CultureInfo.InvariantCulture))
                    && parsed.Descending == (order != "asc")
                    && parsed.After == (string.IsNullOrEmpty(after) ? null : after)
                    && parsed.Before == (string.IsNullOrEmpty(before) ? null : before);
            }
            catch (GatewayException e)
            {
                return e.StatusCode == 400 && (limitOk ? !orderOk && e.Error.Param == "order" : e.Error.Param == "limit");
            }
        }));
    }

    [Fact]
    public void ModelPatternMatcher_AgreesWithARegex()
    {
        // Small alphabets with regex metacharacters and a newline, so stars, escapes and anchors all get exercised.
        var pattern = Gen.ArrayOf(Gen.Elements('a', 'b', '*', '*', '.', '?', '\n', '-')).Select(c => new string(c));
        var model = Gen.ArrayOf(Gen.Elements('a', 'b', '.', '?', '\n', '-', '*')).Select(c => new string(c));

        Check.One(Runs, Prop.ForAll(Gen.Zip(pattern, model).ToArbitrary(), t =>
        {
            var (p, m) = t;
            var reference = new Regex(@"\A" + string.Join(".*", p.Split('*').Select(Regex.Escape)) + @"\z", RegexOptions.Singleline | RegexOptions.CultureInvariant);
            return UpstreamRouter.Matches(p, m) == reference.IsMatch(m);
        }));
    }

    [Fact]
    public void ModelPatternMatcher_HostilePatternOnALongName_DoesNotBacktrack()
    {
        // Exponential backtracking would not finish; the two-pointer match is quadratic at worst (here ~10^7 steps).
        var model = new string('a', 3_000);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.False(UpstreamRouter.Matches("*a*a*a*a*a*a*a*a*b", model));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }
}
