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
/** The other device's notes: when it stored each checkpoint of the chat, and who waits for the next. */
let follower: { heldAt: Map<string, number>; waiting: Set<() => void> } | undefined;

/** Milliseconds on a clock that the pages of one browser share. */
const wallClock = () => performance.timeOrigin + performance.now();

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
   * chat it holds then, and the id of the newest. The device is deleted after, so that the next rows find the
   * browser's storage as they would without it.
   */
  async syncPull(): Promise<{ pullMs: number; checkpoints: number; latest: string | undefined }> {
    const other = newDevice();
    const pullStart = performance.now();
    const pulling = startSync(other, { url: SYNC_URL });
    await pulling.syncNow();
    const pullMs = performance.now() - pullStart;
    await pulling.stop();
    let checkpoints = 0;
    for await (const _ of other.list({ configurable: { thread_id: THREAD } })) checkpoints += 1;
    const latest = await latestId(other);
    await other.close();
    await BrowserSaver.deleteDatabase(other.dbName);
    return { pullMs, checkpoints, latest };
  },

  /** Starts the live sync of the chat's device (this page), ending the first sync's; resolves once it is synced. */
  async syncLiveStart(): Promise<void> {
    for (const sync of syncs.splice(0)) await sync.stop();
    syncs = [startSync(source!.saver, { url: SYNC_URL, live: true })];
    await syncs[0]!.syncNow();
  },

  /** One more turn of the chat: the wall-clock time once `invoke` resolved (the turn committed), and its last checkpoint. */
  async syncLiveTurn(): Promise<{ committedAt: number; id: string }> {
    await turn();
    const committedAt = wallClock();
    return { committedAt, id: (await latestId(source!.saver))! };
  },

  /**
   * The other device, in a page of its own as another device would be (its work does not wait for the chat's on
   * one main thread): syncs live, and notes when it holds each checkpoint of the chat (when it announces the commit
   * that stored it to its subscribers). Resolves once synced, with its stream open.
   */
  async syncFollow(): Promise<void> {
    const saver = newDevice();
    const sync = startSync(saver, { url: SYNC_URL, live: true });
    syncs.push(sync);
    const heldAt = new Map<string, number>();
    const waiting = new Set<() => void>();
    saver.subscribe((change) => {
      if (change.kind !== 'checkpoint' || change.thread_id !== THREAD || heldAt.has(change.checkpoint_id)) return;
      heldAt.set(change.checkpoint_id, wallClock());
      for (const wake of [...waiting]) wake();
    });
    follower = { heldAt, waiting };
    await sync.syncNow();
    // The live stream is open once a round has passed with it.
    await new Promise((resolve) => setTimeout(resolve, 500));
  },

  /** The wall-clock time at which the other device first held checkpoint `id`; waits until it does. */
  async syncHeldAt(id: string): Promise<number> {
    const { heldAt, waiting } = follower!;
    while (!heldAt.has(id)) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          waiting.delete(wake);
          resolve();
        };
        waiting.add(wake);
      });
    }
    return heldAt.get(id)!;
  },

  /** Stops this page's syncs. */
  async syncStop(): Promise<void> {
    for (const sync of syncs.splice(0)) await sync.stop();
  },
};
