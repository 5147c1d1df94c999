#!/usr/bin/env node
// Drives the gateway's WebSocket mode through the official OpenAI JS SDK's Responses WebSocket client
// (openai 7.x, `openai/resources/responses/ws-base`: ResponsesWSBase, which ResponsesWS extends) and prints ONE JSON
// line per request on stdout:
//
//   {"ok":true,"events":["response.created",...],"final":{...the terminal event's response...}}
//   {"ok":false,"events":[],"error":{"status","type","code","message","param"}}   (the SDK's WebSocketError)
//
// Usage: node --experimental-websocket tools/js/ws-check.mjs <baseURL> <apiKey>
//   One response.create body per stdin line (without "type"), each answered before the next line is read, so a caller
//   can chain turns (previous_response_id) on the one socket; the socket is closed when stdin closes.
// The SDK's own ResponsesWS needs the `ws` package, which tools/ does not install; on Node the same base class runs on
// Node's built-in WebSocket (undici, with an Authorization header) through the SDK's own browser adapter.
import readline from "node:readline";
import OpenAI from "openai";
import { ResponsesWSBase } from "openai/resources/responses/ws-base.mjs";
import { BrowserWebSocket } from "../node_modules/openai/internal/ws-adapter-browser.mjs";

const TIMEOUT_MS = Number(process.env.WS_CHECK_TIMEOUT_MS ?? 20000);
const TERMINALS = new Set(["response.completed", "response.incomplete", "response.failed"]);

class BuiltinResponsesWS extends ResponsesWSBase {
  constructor(client) {
    super(client, {});
    this._connectInitial();
  }

  _createSocket(url, authHeaders) {
    return new BrowserWebSocket(new WebSocket(url, { headers: authHeaders }));
  }
}

const [baseURL, apiKey] = process.argv.slice(2);
if (!baseURL || !apiKey || typeof WebSocket !== "function") {
  process.stderr.write("usage: node --experimental-websocket tools/js/ws-check.mjs <baseURL> <apiKey>\n");
  process.exit(2);
}

const client = new OpenAI({ baseURL, apiKey });
const ws = new BuiltinResponsesWS(client);
let waiting = null; // {events, resolve}

ws.on("event", (event) => {
  if (!waiting || event.type === "error") {
    return;
  }
  waiting.events.push(event.type);
  if (TERMINALS.has(event.type)) {
    const done = waiting;
    waiting = null;
    done.resolve({ ok: true, events: done.events, final: event.response });
  }
});
ws.on("error", (error) => {
  const done = waiting;
  waiting = null;
  const envelope = error.error ?? {};
  const result = { ok: false, events: done?.events ?? [], error: { status: envelope.status ?? null, ...(envelope.error ?? { message: error.message }) } };
  if (done) {
    done.resolve(result);
  } else {
    process.stderr.write(`unexpected error: ${JSON.stringify(result)}\n`);
  }
});

function turn(body) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      waiting = null;
      resolve({ ok: false, events: [], error: { message: `no terminal event within ${TIMEOUT_MS} ms` } });
    }, TIMEOUT_MS);
    waiting = { events: [], resolve: (r) => { clearTimeout(timer); resolve(r); } };
    ws.send({ type: "response.create", ...body });
  });
}

let failed = false;
for await (const line of readline.createInterface({ input: process.stdin })) {
  if (!line.trim()) {
    continue;
  }
  const result = await turn(JSON.parse(line));
  failed ||= !result.ok;
  process.stdout.write(JSON.stringify(result) + "\n");
}
ws.close({ code: 1000, reason: "done" });
process.exit(failed ? 1 : 0);
