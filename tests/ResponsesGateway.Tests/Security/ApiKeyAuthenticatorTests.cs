using System.Collections;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using ResponsesGateway.Core.Auth;
using ResponsesGateway.Core.Errors;
using ResponsesGateway.Core.Options;

namespace ResponsesGateway.Tests.Security;

/// <summary>Design invariant 8 for client keys: held only as hashes, every key compared, in constant time.</summary>
public sealed class ApiKeyAuthenticatorTests
{
    private static readonly string[] Keys = ["sk-first-0001", "sk-second-0002", "sk-third-0003", "sk-fourth-0004", "sk-fifth-0005"];

    [Fact]
    public void HoldsNoPlainKey_OnlyTheirSha256()
    {
        var authenticator = new ApiKeyAuthenticator(Options(Keys));

        var values = Reachable(authenticator).ToList();
        foreach (var key in Keys)
        {
            var utf8 = Encoding.UTF8.GetBytes(key);
            Assert.DoesNotContain(values, v => v is string s && s.Contains(key, StringComparison.Ordinal));
            Assert.DoesNotContain(values, v => v is byte[] b && b.AsSpan().IndexOf(utf8) >= 0);
            Assert.Contains(values, v => v is byte[] b && b.SequenceEqual(SHA256.HashData(utf8)));
        }
        // The names (tenants) are there, so the walk did reach the key table.
        Assert.Contains(values, v => v is "k2");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(-1)]
    public void ComparesEveryConfiguredKey_WhicheverMatches(int presented)
    {
        var comparisons = 0;
        var authenticator = new ApiKeyAuthenticator(Options(Keys), (left, right) =>
        {
            comparisons++;
            return CryptographicOperations.FixedTimeEquals(left, right);
        });

        try
        {
            var tenant = authenticator.Authenticate("Bearer " + (presented < 0 ? "sk-nobody" : Keys[presented]));
            Assert.Equal($"k{presented}", tenant.Name);
        }
        catch (GatewayException e) when (presented < 0)
        {
            Assert.Equal(401, e.StatusCode);
        }
        // No early exit on a match and no short cut on a miss: the work does not depend on which key, if any, matched.
        Assert.Equal(Keys.Length, comparisons);
    }

    [Fact]
    public void ProductionComparer_IsTheFixedTimeOne()
    {
        var authenticator = new ApiKeyAuthenticator(Options(Keys));
        var comparer = typeof(ApiKeyAuthenticator).GetFields(BindingFlags.Instance | BindingFlags.NonPublic)
            .Select(f => f.GetValue(authenticator)).OfType<Delegate>().Single();
        Assert.Equal(typeof(CryptographicOperations), comparer.Method.DeclaringType);
        Assert.Equal(nameof(CryptographicOperations.FixedTimeEquals), comparer.Method.Name);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void KeyConfiguredByItsHash_Authenticates(bool upperCase)
    {
        const string Key = "sk-only-the-hash-is-configured";
        var hex = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Key)));
        var options = new GatewayOptions();
        options.ApiKeyHashes["hashed"] = upperCase ? " " + hex.ToUpperInvariant() + " " : hex;
        var authenticator = new ApiKeyAuthenticator(Microsoft.Extensions.Options.Options.Create(options));

        Assert.Equal("hashed", authenticator.Authenticate("Bearer " + Key).Name);
        Assert.Equal(401, Assert.Throws<GatewayException>(() => authenticator.Authenticate("Bearer " + hex)).StatusCode);
        Assert.True(new GatewayOptionsValidator().Validate(null, options).Succeeded);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("zz00000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("00000000000000000000000000000000000000000000000000000000000000000")]
    public void MalformedHash_FailsTheStart(string hash)
    {
        var options = new GatewayOptions();
        options.ApiKeys["a"] = "sk-a";
        options.ApiKeyHashes["bad"] = hash;

        var result = new GatewayOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Gateway:ApiKeyHashes:bad", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void NegativeLimits_FailTheStart_ZeroMeansUnlimited()
    {
        var options = new GatewayOptions { MaxConcurrentRequestsPerKey = -1, RequestsPerMinutePerKey = -1 };
        options.ApiKeys["a"] = "sk-a";
        var result = new GatewayOptionsValidator().Validate(null, options);
        Assert.Contains("MaxConcurrentRequestsPerKey", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("RequestsPerMinutePerKey", result.FailureMessage, StringComparison.Ordinal);

        Assert.True(new GatewayOptionsValidator().Validate(null, new GatewayOptions { ApiKeys = { ["a"] = "sk-a" } }).Succeeded);
    }

    private static IOptions<GatewayOptions> Options(string[] keys)
    {
        var options = new GatewayOptions();
        for (var i = 0; i < keys.Length; i++)
        {
            options.ApiKeys[$"k{i}"] = keys[i];
        }
        return Microsoft.Extensions.Options.Options.Create(options);
    }

    /// <summary>Every value reachable from an object's fields (arrays, tuples, nested objects), skipping delegates.</summary>
    private static IEnumerable<object> Reachable(object root)
    {
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<object>([root]);
        while (pending.TryPop(out var current))
        {
            if (current is Delegate || (!current.GetType().IsValueType && !seen.Add(current)))
            {
                continue;
            }
            yield return current;
            if (current is string or byte[] || current.GetType().IsPrimitive)
            {
                continue;
            }
            if (current is IEnumerable sequence)
            {
                foreach (var element in sequence)
                {
                    if (element is not null)
                    {
                        pending.Push(element);
                    }
                }
                continue;
            }
            for (var type = current.GetType(); type is not null; type = type.BaseType)
            {
                foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                {
                    if (field.GetValue(current) is { } value)
                    {
                        pending.Push(value);
                    }
                }
            }
        }
    }
}
