#!/usr/bin/env node
// Drives background responses through the official OpenAI JS SDK and prints ONE JSON line on stdout with what the SDK
// returned:
//
//   {"ok":true,
//    "polled":{"queued":{id,status,background},"polls":N,"final":{id,status,text}},
//    "resumed":{"id","seen":[seq...],"tail":{"types":[...],"seqs":[...]},"helper":{"status","text","seqs":[...]}},
//    "cancelled":{"id","before":status,"cancel":{status},"again":{status},"retrieved":{status}},
//    "notBackground":{"status","param","code"}}
//   {"ok":false,"error":{"status","message"}}
//
// The resume goes through both SDK ways: responses.retrieve(id, {stream:true, starting_after}) and the
// responses.stream({response_id, starting_after}) helper, which replays from the start, checks every event against
// its own snapshot and filters locally.
//
// Usage: node tools/js/background-check.mjs <baseURL> <apiKey> <marker> <stallModel>
import OpenAI from "openai";

const [baseURL, apiKey, marker, stallModel] = process.argv.slice(2);
if (!baseURL || !apiKey || !marker || !stallModel) {
  process.stderr.write("usage: node tools/js/background-check.mjs <baseURL> <apiKey> <marker> <stallModel>\n");
  process.exit(2);
}
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const textOf = (r) => r.output_text ?? r.output.flatMap((o) => o.content ?? []).map((c) => c.text ?? "").join("");

async function pollUntil(id, statuses) {
  for (let polls = 1; polls <= 600; polls++) {
    const r = await client.responses.retrieve(id);
    if (statuses.includes(r.status)) return { response: r, polls };
    await sleep(100);
  }
  throw new Error(`response ${id} never reached ${statuses}`);
}

try {
  // 1. Create, then poll until it ends.
  const queued = await client.responses.create({ model: "mock-model", input: `polled ${marker}`, background: true });
  const { response: final, polls } = await pollUntil(queued.id, ["completed", "failed", "cancelled", "incomplete"]);
  const polled = {
    queued: { id: queued.id, status: queued.status, background: queued.background },
    polls,
    final: { id: final.id, status: final.status, text: textOf(final) },
  };

  // 2. Stream a create, leave after the first delta, resume from where we left off both ways.
  const seen = [];
  let resumedId = null;
  const first = await client.responses.create({ model: "mock-model", input: `resumed ${marker}`, background: true, stream: true });
  for await (const event of first) {
    seen.push(event.sequence_number);
    resumedId ??= event.response?.id ?? null;
    if (event.type === "response.output_text.delta") break; // drops the connection
  }
  const last = seen[seen.length - 1];
  const tail = { types: [], seqs: [] };
  const rest = await client.responses.retrieve(resumedId, { stream: true, starting_after: last });
  for await (const event of rest) {
    tail.types.push(event.type);
    tail.seqs.push(event.sequence_number);
  }
  const helperSeqs = [];
  const helperStream = client.responses.stream({ response_id: resumedId, starting_after: last });
  helperStream.on("event", (event) => helperSeqs.push(event.sequence_number));
  const helperFinal = await helperStream.finalResponse();
  const resumed = { id: resumedId, seen, tail, helper: { status: helperFinal.status, text: textOf(helperFinal), seqs: helperSeqs } };

  // 3. Cancel a run that is in progress (the stall model holds it open mid-answer).
  const slow = await client.responses.create({ model: stallModel, input: `cancelled ${marker}`, background: true });
  const { response: running } = await pollUntil(slow.id, ["in_progress", "completed", "failed"]);
  const cancel = await client.responses.cancel(slow.id);
  const again = await client.responses.cancel(slow.id);
  const retrieved = await client.responses.retrieve(slow.id);
  const cancelled = { id: slow.id, before: running.status, cancel: { status: cancel.status }, again: { status: again.status }, retrieved: { status: retrieved.status } };

  // 4. Cancel of a response that was not created in the background: the SDK raises OpenAI's error.
  const plain = await client.responses.create({ model: "mock-model", input: `plain ${marker}` });
  let notBackground = null;
  try {
    await client.responses.cancel(plain.id);
  } catch (e) {
    notBackground = { status: e.status ?? null, param: e.param ?? null, code: e.code ?? null };
  }

  process.stdout.write(JSON.stringify({ ok: true, polled, resumed, cancelled, notBackground }) + "\n");
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, error: { status: e.status ?? null, message: String(e.message ?? e) } }) + "\n");
}
