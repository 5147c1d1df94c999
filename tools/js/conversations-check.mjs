#!/usr/bin/env node
// Drives a conversation end to end through the official OpenAI JS SDK (`client.conversations`, its items pager, and
// `client.responses.create` with `conversation`) and prints ONE JSON line on stdout with what the SDK returned:
//
//   {"ok":true,"created":{...},"turns":[{id,status,conversation,text},...],"items":[...all items, oldest first...],
//    "pages":N,"item":{...},"afterDelete":{...},"updated":{...},"deleted":{...},"missing":{"status","code","param"}}
//   {"ok":false,"error":{"status","message"}}
//
// Usage: node tools/js/conversations-check.mjs <baseURL> <apiKey> <marker>
import OpenAI from "openai";

const [baseURL, apiKey, marker] = process.argv.slice(2);
if (!baseURL || !apiKey || !marker) {
  process.stderr.write("usage: node tools/js/conversations-check.mjs <baseURL> <apiKey> <marker>\n");
  process.exit(2);
}
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });

try {
  const created = await client.conversations.create({
    metadata: { topic: marker },
    items: [{ type: "message", role: "system", content: "Be brief." }],
  });

  const turns = [];
  const first = await client.responses.create({ model: "mock-model", input: `first ${marker}`, conversation: created.id });
  turns.push({ id: first.id, status: first.status, conversation: first.conversation, text: first.output_text });
  const stream = await client.responses.create({ model: "mock-model", input: `second ${marker}`, conversation: { id: created.id }, stream: true });
  for await (const event of stream) {
    if (event.type === "response.completed") {
      const r = event.response;
      turns.push({ id: r.id, status: r.status, conversation: r.conversation, text: r.output.flatMap((o) => o.content ?? []).map((c) => c.text).join("") });
    }
  }

  // The SDK's cursor pager, two items a page, oldest first.
  const items = [];
  let pages = 0;
  let page = await client.conversations.items.list(created.id, { limit: 2, order: "asc" });
  for (;;) {
    pages++;
    items.push(...page.data);
    if (!page.hasNextPage()) {
      break;
    }
    page = await page.getNextPage();
  }

  const added = await client.conversations.items.create(created.id, { items: [{ type: "message", role: "user", content: "added" }] });
  const item = await client.conversations.items.retrieve(added.data[0].id, { conversation_id: created.id });
  const afterDelete = await client.conversations.items.delete(added.data[0].id, { conversation_id: created.id });
  const updated = await client.conversations.update(created.id, { metadata: { topic: "updated" } });
  const deleted = await client.conversations.delete(created.id);
  let missing = null;
  try {
    await client.conversations.retrieve(created.id);
  } catch (e) {
    missing = { status: e.status, code: e.code ?? null, param: e.param ?? null };
  }
  process.stdout.write(JSON.stringify({ ok: true, created, turns, items, pages, item, afterDelete, updated, deleted, missing }) + "\n");
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, error: { status: e.status ?? null, message: String(e.message ?? e) } }) + "\n");
  process.exitCode = 1;
}
