// The sync rows: two devices (two BrowserSaver databases in this page, each syncing on its own) against the demo
// server, which serves this page too so that the endpoint is on the page's origin.
import { HumanMessage } from '@langchain/core/messages';
import { BrowserSaver } from '../../src/index.js';
import { startSync, type SyncController } from '../../src/sync/index.js';
import { buildChatGraph, chatText } from './graphs.js';

const SYNC_URL = '/sync';
const THREAD = 'sync-chat';
let devices = 0;
const newDevice = () => new BrowserSaver({ dbName: `bench-sync-${Date.now()}-${(devices += 1)}` });

let source: { saver: BrowserSaver; graph: ReturnType<typeof buildChatGraph>; turns: number; length: number } | undefined;
let syncs: SyncController[] = [];

const latestId = async (saver: BrowserSaver) => (await saver.getTuple({ configurable: { thread_id: THREAD } }))?.checkpoint.id;

async function turn(): Promise<void> {
  const chat = source!;
  await chat.graph.invoke({ messages: [new HumanMessage(chatText(chat.turns, 'human', chat.length))] }, { configurable: { thread_id: THREAD } });
  chat.turns += 1;
}

export const syncHarness = {
  /** A new device with a compact chat (DeltaChannel), not yet syncing. */
  syncStartChat(length: number): void {
    const saver = newDevice();
    source = { saver, graph: buildChatGraph(saver, true, length), turns: 0, length };
  },

  /** Runs `turns` more turns of the chat, in calls short enough for the driver's protocol. */
  async syncChatTurns(turns: number): Promise<void> {
    for (let i = 0; i < turns; i += 1) await turn();
  },

  /**
   * The first sync of the chat: milliseconds until the device that made it has pushed it all, then until a new
   * device has pulled it all, and how many checkpoints that one holds after.
   */
  async syncFirst(): Promise<{ pushMs: number; pullMs: number; checkpoints: number }> {
    const pushStart = performance.now();
    const pushing = startSync(source!.saver, { url: SYNC_URL });
    syncs.push(pushing);
    await pushing.syncNow();
    const pushMs = performance.now() - pushStart;

    const { latest, ...pulled } = await syncHarness.syncPull();
    if (latest !== (await latestId(source!.saver))) throw new Error('The new device did not pull the chat whole.');
    return { pushMs, ...pulled };
  },

  /**
   * A new device pulls everything the server holds: milliseconds until it holds it, how many checkpoints of the
   * chat it holds then, and the id of the newest.
   */
  async syncPull(): Promise<{ pullMs: number; checkpoints: number; latest: string | undefined }> {
    const other = newDevice();
    const pullStart = performance.now();
    const pulling = startSync(other, { url: SYNC_URL });
    syncs.push(pulling);
    await pulling.syncNow();
    const pullMs = performance.now() - pullStart;
    let checkpoints = 0;
    for await (const _ of other.list({ configurable: { thread_id: THREAD } })) checkpoints += 1;
    return { pullMs, checkpoints, latest: await latestId(other) };
  },

  /**
   * Both devices live: for each of `rounds` new turns on the first, the milliseconds from the end of its `invoke`
   * (the turn committed locally) until the other device holds its last checkpoint.
   */
  async syncLiveTurns(rounds: number): Promise<number[]> {
    for (const sync of syncs.splice(0)) await sync.stop();
    const other = newDevice();
    syncs = [startSync(source!.saver, { url: SYNC_URL, live: true }), startSync(other, { url: SYNC_URL, live: true })];
    await Promise.all(syncs.map((sync) => sync.syncNow()));
    // The live stream is open once a round of the other device has passed with it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const latencies: number[] = [];
    for (let i = 0; i < rounds; i += 1) {
      await turn();
      const committed = performance.now();
      const expected = await latestId(source!.saver);
      await new Promise<void>((resolve) => {
        const check = async () => {
          if ((await latestId(other)) !== expected) return;
          stop();
          resolve();
        };
        const stop = other.subscribe(() => void check());
        void check();
      });
      latencies.push(performance.now() - committed);
    }
    for (const sync of syncs.splice(0)) await sync.stop();
    return latencies;
  },
};
