using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using ResponsesGateway.TestSupport;
using ResponsesGateway.Tests.Infrastructure;

namespace ResponsesGateway.Tests.WebSockets;

/// <summary>
/// WebSocket mode through the official OpenAI JS SDK's Responses WebSocket client (openai 7.5.0, ResponsesWSBase) via
/// <c>tools/js/ws-check.mjs</c>: a <c>store:false</c> chain continued on one socket, then a continuation of an unknown
/// id, which the SDK surfaces as its WebSocketError carrying the gateway's envelope.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class JsSdkWebSocketTests(GatewayFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(40);

    private readonly StringBuilder _stderr = new();

    [Fact]
    public async Task JsSdk_StoreFalseChainOnOneSocket_AndPreviousResponseNotFound()
    {
        var marker = Guid.NewGuid().ToString("N")[..12];
        using var process = Start(fixture.Gateway);
        try
        {
            var first = await TurnAsync(process, $$$$$"""{"model":"mock-tools","input":"weather {{{{{marker}}}}}","store":false,"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}]}""");
            Assert.True((bool)first["ok"]!, first.ToJsonString());
            var response = first["final"]!.AsObject();
            OpenResponsesValidator.ValidateResponse(response);
            var call = response["output"]!.AsArray().Single(i => (string?)i!["type"] == "function_call")!;
            Assert.Equal("response.created", (string?)first["events"]![0]);
            Assert.Equal("response.completed", (string?)first["events"]!.AsArray()[^1]);

            var second = await TurnAsync(process, new JsonObject
            {
                ["model"] = "mock-model",
                ["store"] = false,
                ["previous_response_id"] = (string?)response["id"],
                ["input"] = new JsonArray(new JsonObject { ["type"] = "function_call_output", ["call_id"] = (string?)call["call_id"], ["output"] = $"18C {marker}" }),
            }.ToJsonString());
            Assert.True((bool)second["ok"]!, second.ToJsonString());
            Assert.Equal((string?)response["id"], (string?)second["final"]!["previous_response_id"]);
            OpenResponsesValidator.ValidateResponse(second["final"]!.AsObject());
            var sent = fixture.Mock.Requests.Single(r => r.Body.Contains($"18C {marker}", StringComparison.Ordinal));
            Assert.Contains($"weather {marker}", sent.Body, StringComparison.Ordinal); // the whole chain reached the upstream

            var lost = await TurnAsync(process, """{"model":"mock-model","input":"x","store":false,"previous_response_id":"resp_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}""");
            Assert.False((bool)lost["ok"]!);
            Assert.Equal(400, (int)lost["error"]!["status"]!);
            Assert.Equal("previous_response_not_found", (string?)lost["error"]!["code"]);
            Assert.Equal("previous_response_id", (string?)lost["error"]!["param"]);

            process.StandardInput.Close();
            await process.WaitForExitAsync().WaitAsync(Timeout);
            Assert.Equal(1, process.ExitCode); // one request failed, as intended
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    private async Task<JsonObject> TurnAsync(Process process, string body)
    {
        await process.StandardInput.WriteLineAsync(body);
        await process.StandardInput.FlushAsync();
        string? line;
        try
        {
            // WaitAsync, not a token: a read of the child's stdout pipe does not observe cancellation.
            line = await process.StandardOutput.ReadLineAsync().WaitAsync(Timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"ws-check.mjs gave no answer within {Timeout}: {Stderr()}");
        }
        Assert.True(line is not null, "ws-check.mjs ended without an answer: " + Stderr());
        return JsonNode.Parse(line!)!.AsObject();
    }

    private string Stderr()
    {
        lock (_stderr)
        {
            return _stderr.ToString();
        }
    }

    private Process Start(GatewayHost gateway)
    {
        var info = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryRoot.Path,
            StandardOutputEncoding = Encoding.UTF8,
            StandardInputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
        };
        // Node 20 has the built-in WebSocket behind this flag (22 has it by default; the flag is then accepted and ignored).
        info.ArgumentList.Add("--experimental-websocket");
        info.ArgumentList.Add(Path.Combine(RepositoryRoot.Path, "tools", "js", "ws-check.mjs"));
        info.ArgumentList.Add(new Uri(gateway.BaseUrl, "/v1").ToString());
        info.ArgumentList.Add(GatewayHost.KeyA);
        var process = Process.Start(info)!;
        // Kept for failure messages.
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_stderr)
                {
                    _stderr.AppendLine(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();
        return process;
    }
}
