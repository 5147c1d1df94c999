#!/usr/bin/env node
// Runs Responses requests through the official OpenAI JS SDK's streaming helper, `client.responses.stream()`
// (openai 7.x: its ResponseStream/accumulator rejects unknown event types, out-of-order items, wrong item ids...,
// which makes it a strict check of the gateway's streams), and prints ONE JSON line per request on stdout:
//
//   {"ok":true,"events":["response.created",...],"final":{...finalResponse()...}}
//   {"ok":false,"events":[...],"error":{"name","message","status","code","type","param"}}
//
// Usage: node tools/js/stream-check.mjs <baseURL> <apiKey> [<request JSON>]
//   With a third argument, that one request. Without, one request per stdin line, each answered before the next
//   line is read (so a caller can build a turn from the previous answer), until stdin closes.
// <baseURL> includes the version segment, e.g. http://127.0.0.1:8080/v1.
// Exit codes: 0 the helper accepted every stream and finalResponse() resolved (whatever the responses' status);
// 1 the SDK threw at least once (HTTP error, rejected stream, timeout); 2 bad usage.
// `import OpenAI from "openai"` resolves from tools/node_modules because this file lives under tools/.
import readline from "node:readline";
import OpenAI from "openai";

// openai 7.x declares Node >= 22; the helper paths used here run on Node 20. Polyfill what 22 added, should a code
// path need it.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

const TIMEOUT_MS = Number(process.env.STREAM_CHECK_TIMEOUT_MS ?? 30000);

function print(result) {
  process.stdout.write(JSON.stringify(result) + "\n");
}

const [baseURL, apiKey, inline] = process.argv.slice(2);
if (!baseURL || !apiKey) {
  process.stderr.write("usage: node tools/js/stream-check.mjs <baseURL> <apiKey> [<request JSON>]\n");
  process.exit(2);
}

const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: TIMEOUT_MS });

async function check(line) {
  let request;
  try {
    request = JSON.parse(line);
  } catch (e) {
    process.stderr.write(`the request is not JSON: ${e.message}\n`);
    process.exit(2);
  }
  // A hard stop in case something hangs below the SDK's own timeout.
  const watchdog = setTimeout(() => {
    print({ ok: false, events: [], error: { name: "Watchdog", message: `no result after ${TIMEOUT_MS + 5000} ms` } });
    process.exit(1);
  }, TIMEOUT_MS + 5000);
  const events = [];
  try {
    const stream = client.responses.stream(request);
    for await (const event of stream) {
      events.push(event.type);
    }
    const final = await stream.finalResponse();
    print({ ok: true, events, final });
  } catch (e) {
    print({
      ok: false,
      events,
      error: {
        name: e?.constructor?.name ?? typeof e,
        message: String(e?.message ?? e),
        status: e?.status ?? null,
        code: e?.code ?? null,
        type: e?.type ?? null,
        param: e?.param ?? null,
      },
    });
    process.exitCode = 1;
  } finally {
    clearTimeout(watchdog);
  }
}

if (inline !== undefined) {
  await check(inline);
} else {
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim().length > 0) {
      await check(line);
    }
  }
}
