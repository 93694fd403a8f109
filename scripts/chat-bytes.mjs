// `node scripts/chat-bytes.mjs [turns]`: the bytes the bench's long chat (two 400-character messages a turn) leaves
// in the database, by record and field, against the messages' own serialized bytes, for the plain reducer and for
// DeltaChannel. In Node, on fake-indexeddb: byte counts are the same in every engine.
import 'fake-indexeddb/auto';
import '@langchain/langgraph';
import { fileURLToPath } from 'node:url';
import { runnerImport } from 'vite';

const turns = Number(process.argv[2] ?? 300);
const { module } = await runnerImport(fileURLToPath(new URL('../bench/chat-bytes.ts', import.meta.url)));
for (const delta of [false, true]) {
  const { messages, parts } = await module.chatBytes(turns, delta, 400);
  const total = Object.values(parts).reduce((sum, bytes) => sum + bytes, 0);
  console.log(`${delta ? 'DeltaChannel' : 'plain reducer'}, ${turns} turns: ${(total / 2 ** 20).toFixed(2)} MiB for ${(messages / 2 ** 20).toFixed(2)} MiB of messages, ${(total / messages).toFixed(2)}×`);
  for (const [part, bytes] of Object.entries(parts).sort((a, b) => b[1] - a[1])) console.log(`  ${part}: ${(bytes / messages).toFixed(2)}×`);
}
