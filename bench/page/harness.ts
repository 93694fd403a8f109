// The benchmark page: each `window.harness` call measures one variant once and returns milliseconds per
// operation; the driver in Node alternates the variants and repeats them.
import type { RunnableConfig } from '@langchain/core/runnables';
import type { ThreadExport } from '../../src/devtools/data-source.js';
import {
  MemorySaver,
  uuid6,
  type BaseCheckpointSaver,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointMetadata,
} from '@langchain/langgraph-checkpoint';
import { createMemoryDataSource } from '../../src/devtools/memory-source.js';
import { createPageDataSource } from '../../src/devtools/page-source.js';
import { BrowserSaver, WorkerSaver, installBrowserAsyncContext } from '../../src/index.js';
import { prefixRange, requestResult } from '../../src/storage/requests.js';
import { STORE_NAMES, type BlobRecord, type CheckpointRecord } from '../../src/storage/records.js';
import { longThread } from '../../test/support/fixture-threads.js';
import { writeThreadExport } from '../../test/support/write-thread.js';
import { HumanMessage, type BaseMessage } from '@langchain/core/messages';
import { recordBytes } from './record-bytes.js';
import { FIVE_CHANNELS, buildChatGraph, buildFiveChannelGraph, buildLoopGraph, chatText, fiveChannelInput, stepValue } from './graphs.js';
import {
  getAllTen,
  latestByCursor,
  latestWithValues,
  openRawDatabase,
  putAllInOneTransaction,
  putOnePerTransaction,
  putAsSaversDo,
  putWithBlobsPerTransaction,
  type StoredPut,
} from './raw-indexeddb.js';
import type { RawWorkerAnswer, RawWorkerRequest } from './raw-worker.js';
import { timeUntilInteractive } from './panel.js';
import { storeHarness } from './store.js';
import { syncHarness } from './sync.js';

/** The channels the loop graph's supersteps change: its counter, and the branch that runs the node again. */
const LOOP_CHANGED_CHANNELS = ['count', 'branch:to:tick'];

const DB_NAME = 'bench';
/** The panel's own database, so that it lists only the long thread. */
const PANEL_DB_NAME = 'bench-panel';

installBrowserAsyncContext();

// Firefox has no Long Tasks API: its runs report no figure rather than none.
const hasLongTasks = PerformanceObserver.supportedEntryTypes.includes('longtask');
const longTasks: PerformanceEntry[] = [];
if (hasLongTasks) new PerformanceObserver((list) => longTasks.push(...list.getEntries())).observe({ type: 'longtask', buffered: true });

const savers = {
  browser: new BrowserSaver({ dbName: DB_NAME }),
  worker: new WorkerSaver({ dbName: DB_NAME }),
  queued: new WorkerSaver({ dbName: DB_NAME, ack: 'queued' }),
};
/** The same savers with encryption on, under a key made once. */
const encryptedSavers = crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']).then((key) => ({
  browser: new BrowserSaver({ dbName: DB_NAME, encryption: { key } }),
  worker: new WorkerSaver({ dbName: DB_NAME, encryption: { key } }),
}));
const panelSaver = new BrowserSaver({ dbName: PANEL_DB_NAME });
/** Long threads by size: building one is slow and not part of what the panel row measures. */
const longThreads = new Map<number, ThreadExport>();
type SaverKind = keyof typeof savers;
type GraphSaverKind = SaverKind | 'memory' | 'floor' | 'pageTransaction' | 'workerTransaction';

/**
 * The floor of a saver that acknowledges a put once it is committed: MemorySaver's own work, plus one raw
 * IndexedDB transaction per put, committed before the put resolves, holding what a saver's put stores (the
 * checkpoint record and a blob for each channel that changed).
 */
class CommittingMemorySaver extends MemorySaver {
  override async put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, newVersions?: ChannelVersions): Promise<RunnableConfig> {
    const stored = await super.put(config, checkpoint, metadata);
    const db = await raw();
    const thread_id = `floor-${String(config.configurable?.['thread_id'])}`;
    const record: CheckpointRecord = {
      thread_id,
      checkpoint_ns: '',
      checkpoint_id: checkpoint.id,
      v: checkpoint.v,
      channel_versions: checkpoint.channel_versions,
      checkpoint: { type: 'json', bytes: new Uint8Array(200) },
      metadata: { type: 'json', bytes: new Uint8Array(40) },
    };
    const blobs = Object.entries(newVersions ?? {}).map(([channel, version]): BlobRecord => ({
      thread_id,
      checkpoint_ns: '',
      channel,
      version,
      value: { type: 'json', bytes: new Uint8Array(8) },
    }));
    await putWithBlobsPerTransaction(db, [{ checkpoint: record, blobs }]);
    return stored;
  }
}

/**
 * MemorySaver's own work, plus per put the transaction a saver makes for it, by hand (`putAsSaversDo`): the record
 * BrowserSaver stored for the same superstep of the same graph, moved to this run's thread, stored in the page or
 * by a worker of plain `postMessage`. What the savers add beyond it is their own code.
 */
class SaverTransactionMemorySaver extends MemorySaver {
  readonly #records: CheckpointRecord[];
  readonly #store: (record: CheckpointRecord) => Promise<void>;
  #next = 0;

  constructor(records: CheckpointRecord[], store: (record: CheckpointRecord) => Promise<void>) {
    super();
    this.#records = records;
    this.#store = store;
  }

  override async put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata): Promise<RunnableConfig> {
    const stored = await super.put(config, checkpoint, metadata);
    const record = this.#records[this.#next % this.#records.length]!;
    this.#next += 1;
    await this.#store({ ...record, thread_id: `transaction-${String(config.configurable?.['thread_id'])}` });
    return stored;
  }
}

/** The records BrowserSaver stores for a loop graph of `steps` supersteps, in order, by number of steps. */
const saverRecords = new Map<number, Promise<CheckpointRecord[]>>();
function recordsOfLoopGraph(steps: number): Promise<CheckpointRecord[]> {
  let records = saverRecords.get(steps);
  if (!records) {
    records = (async () => {
      const thread_id = `records-of-${steps}`;
      await runLoopGraph(savers.browser, steps, thread_id);
      const db = await raw();
      return (await requestResult(db.transaction('checkpoints', 'readonly').objectStore('checkpoints').getAll(prefixRange([thread_id, ''])))) as CheckpointRecord[];
    })();
    saverRecords.set(steps, records);
  }
  return records;
}

let rawWorker: Worker | undefined;
/** Asks the raw worker to store a record; the chain of puts has one request out at a time. */
function storeInRawWorker(record: CheckpointRecord): Promise<void> {
  rawWorker ??= new Worker(new URL('./raw-worker.ts', import.meta.url), { type: 'module' });
  const worker = rawWorker;
  return new Promise((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<RawWorkerAnswer>) => (event.data === null ? resolve() : reject(new Error(`The raw worker failed: ${event.data.error}`)));
    worker.postMessage({ dbName: DB_NAME, record } satisfies RawWorkerRequest);
  });
}

async function graphSaver(kind: GraphSaverKind, steps: number): Promise<BaseCheckpointSaver> {
  switch (kind) {
    case 'memory':
      return new MemorySaver();
    case 'floor':
      return new CommittingMemorySaver();
    case 'pageTransaction': {
      const [records, db] = await Promise.all([recordsOfLoopGraph(steps), raw()]);
      return new SaverTransactionMemorySaver(records, (record) => putAsSaversDo(db, record));
    }
    case 'workerTransaction':
      return new SaverTransactionMemorySaver(await recordsOfLoopGraph(steps), storeInRawWorker);
    default:
      return savers[kind];
  }
}
type EncryptableKind = keyof Awaited<typeof encryptedSavers>;

async function saverOf(kind: SaverKind, encrypted: boolean): Promise<BrowserSaver | WorkerSaver> {
  if (!encrypted) return savers[kind];
  if (kind === 'queued') throw new Error('The encryption rows use the browser and worker savers.');
  return (await encryptedSavers)[kind];
}
const encryptionChat = (turns: number, encrypted: boolean) => `encryption-chat-${turns}-${encrypted ? 'encrypted' : 'clear'}`;
type StoreName = (typeof STORE_NAMES)[number];

let rawDatabase: IDBDatabase | undefined;
async function raw(): Promise<IDBDatabase> {
  // Opened after a saver created the database (a read opens it), so it has the savers' stores.
  if (!rawDatabase) await savers.browser.getTuple({ configurable: { thread_id: 'none' } });
  rawDatabase ??= await openRawDatabase(DB_NAME);
  return rawDatabase;
}

/** Every write queued in the workers is committed, so one measurement never pays for the one before. */
async function settle(): Promise<void> {
  await Promise.all([savers.worker.flush(), savers.queued.flush()]);
}

let runs = 0;
const freshThread = (label: string) => `${label}-${(runs += 1)}`;
const threadOfSize = (size: number) => `thread-${size}`;

type PutCall = [config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, newVersions: ChannelVersions];

/** Records the `put` calls of a loop graph run, to replay them as LangGraph makes them. */
class RecordingSaver extends MemorySaver {
  readonly puts: PutCall[] = [];
  // LangGraph passes `newVersions` to every saver; MemorySaver's signature leaves it out.
  override put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, newVersions: ChannelVersions = {}) {
    const { thread_id, checkpoint_ns, checkpoint_id } = config.configurable ?? {};
    this.puts.push(structuredClone([{ configurable: { thread_id, checkpoint_ns, checkpoint_id } }, checkpoint, metadata, newVersions]));
    return super.put(config, checkpoint, metadata);
  }
}

let recordedPuts: PutCall[] | undefined;
async function loopGraphPuts(): Promise<PutCall[]> {
  if (!recordedPuts) {
    const recorder = new RecordingSaver();
    await runLoopGraph(recorder, 1000, 'recorded');
    recordedPuts = recorder.puts;
  }
  return recordedPuts;
}

function withThread(config: RunnableConfig, thread_id: string): RunnableConfig {
  return { ...config, configurable: { ...config.configurable, thread_id } };
}

async function runLoopGraph(saver: BaseCheckpointSaver, steps: number, thread_id: string, yieldEachStep = false): Promise<void> {
  const graph = buildLoopGraph(saver, steps, yieldEachStep);
  await graph.invoke({ count: 0 }, { configurable: { thread_id }, recursionLimit: steps + 10 });
}

/** Milliseconds per operation of `body`, which performs `operations` of them. */
async function timePerOperation(operations: number, body: () => Promise<unknown>): Promise<number> {
  await settle();
  const start = performance.now();
  await body();
  return (performance.now() - start) / operations;
}

/**
 * Checkpoint records of a filled thread with the blobs of the channels each step changed, moved to a new
 * thread: what a saver's put stores, as records.
 */
async function storedPuts(count: number): Promise<StoredPut[]> {
  const db = await raw();
  const tx = db.transaction(['checkpoints', 'blobs'], 'readonly');
  const source = threadOfSize(1000);
  const records = (await requestResult(tx.objectStore('checkpoints').getAll(prefixRange([source, '']), count))) as CheckpointRecord[];
  const thread_id = freshThread('raw');
  return Promise.all(
    records.map(async (record) => {
      const blobs = await Promise.all(
        LOOP_CHANGED_CHANNELS.map((channel) => requestResult(tx.objectStore('blobs').get([source, '', channel, record.channel_versions[channel] ?? -1]))),
      );
      return {
        checkpoint: { ...record, thread_id },
        blobs: (blobs.filter(Boolean) as BlobRecord[]).map((blob) => ({ ...blob, thread_id })),
      };
    }),
  );
}

/** Chats under way, by thread. */
type ChatSaverKind = SaverKind | 'memory';
const chats = new Map<string, { kind: ChatSaverKind; saver: BaseCheckpointSaver; graph: ReturnType<typeof buildChatGraph>; length: number; turns: number }>();

const harness = {
  /**
   * Threads of these many checkpoints, for the read rows: the loop graph stores one per superstep, plus its
   * input's and the first step's. Returns how many each thread holds.
   */
  async fillThreads(sizes: number[]): Promise<number[]> {
    for (const size of sizes) await runLoopGraph(savers.queued, size - 2, threadOfSize(size));
    await settle();
    const db = await raw();
    return Promise.all(
      sizes.map((size) => requestResult(db.transaction('checkpoints', 'readonly').objectStore('checkpoints').count(prefixRange([threadOfSize(size)])))),
    );
  },

  async rawPutOnePerTransaction(count: number): Promise<number> {
    const [db, puts] = await Promise.all([raw(), storedPuts(count)]);
    return timePerOperation(count, () => putOnePerTransaction(db, puts.map((put) => put.checkpoint)));
  },

  async rawPutAllInOneTransaction(count: number): Promise<number> {
    const [db, puts] = await Promise.all([raw(), storedPuts(count)]);
    return timePerOperation(count, () => putAllInOneTransaction(db, puts.map((put) => put.checkpoint)));
  },

  /** What a saver's put stores (a checkpoint and the blobs of its changed channels), one transaction each. */
  async rawPutWithBlobsPerTransaction(count: number): Promise<number> {
    const [db, puts] = await Promise.all([raw(), storedPuts(count)]);
    return timePerOperation(count, () => putWithBlobsPerTransaction(db, puts));
  },

  async rawLatest(size: number, count: number): Promise<number> {
    const db = await raw();
    return timePerOperation(count, async () => {
      for (let i = 0; i < count; i += 1) await latestByCursor(db, threadOfSize(size));
    });
  },

  async rawLatestWithValues(size: number, count: number): Promise<number> {
    const db = await raw();
    return timePerOperation(count, async () => {
      for (let i = 0; i < count; i += 1) await latestWithValues(db, threadOfSize(size));
    });
  },

  async rawGetAllTen(size: number, count: number): Promise<number> {
    const db = await raw();
    return timePerOperation(count, async () => {
      for (let i = 0; i < count; i += 1) await getAllTen(db, threadOfSize(size));
    });
  },

  /** `count` puts of a loop graph's checkpoints, each awaited before the next, as LangGraph chains them. */
  async put(kind: SaverKind, count: number, encrypted = false): Promise<number> {
    const saver = await saverOf(kind, encrypted);
    const puts = (await loopGraphPuts()).slice(0, count);
    const thread_id = freshThread(`put-${kind}${encrypted ? '-encrypted' : ''}`);
    return timePerOperation(count, async () => {
      for (const [config, checkpoint, metadata, newVersions] of puts) {
        await saver.put(withThread(config, thread_id), checkpoint, metadata, newVersions);
      }
    });
  },

  /** `rounds` supersteps in which `tasks` tasks each store two writes at once; milliseconds per `putWrites`. */
  async concurrentPutWrites(kind: SaverKind, rounds: number, tasks: number): Promise<number> {
    const saver = savers[kind];
    const thread_id = freshThread(`writes-${kind}`);
    const steps = Array.from({ length: rounds }, () => ({
      config: { configurable: { thread_id, checkpoint_ns: '', checkpoint_id: uuid6(-1) } },
      taskIds: Array.from({ length: tasks }, () => uuid6(-1)),
    }));
    return timePerOperation(rounds * tasks, async () => {
      for (const { config, taskIds } of steps) {
        await Promise.all(
          taskIds.map((taskId, task) => saver.putWrites(config, [['count', task], ['notes', `task ${task}`]], taskId)),
        );
      }
    });
  },

  /** Two chats of `turns` turns (messages of `length` characters), one written in clear, one encrypted. */
  async fillEncryptionChats(turns: number, length: number): Promise<void> {
    for (const encrypted of [false, true]) {
      const saver = await saverOf('browser', encrypted);
      const graph = buildChatGraph(saver, false, length);
      const config = { configurable: { thread_id: encryptionChat(turns, encrypted) } };
      for (let turn = 0; turn < turns; turn += 1) await graph.invoke({ messages: [new HumanMessage(chatText(turn, 'human', length))] }, config);
    }
  },

  /** `count` getTuple calls for the latest checkpoint of a chat filled by `fillEncryptionChats`. */
  async getTupleChat(kind: EncryptableKind, encrypted: boolean, turns: number, count: number): Promise<number> {
    const saver = await saverOf(kind, encrypted);
    const config = { configurable: { thread_id: encryptionChat(turns, encrypted), checkpoint_ns: '' } };
    const tuple = await saver.getTuple(config);
    if ((tuple?.checkpoint.channel_values['messages'] as unknown[] | undefined)?.length !== 2 * turns) throw new Error('The chat is not filled.');
    return timePerOperation(count, async () => {
      for (let i = 0; i < count; i += 1) await saver.getTuple(config);
    });
  },

  async getTupleLatest(kind: SaverKind, size: number, count: number): Promise<number> {
    const saver = savers[kind];
    const config = { configurable: { thread_id: threadOfSize(size), checkpoint_ns: '' } };
    return timePerOperation(count, async () => {
      for (let i = 0; i < count; i += 1) await saver.getTuple(config);
    });
  },

  async listTen(kind: SaverKind, size: number, count: number): Promise<number> {
    const saver = savers[kind];
    const config = { configurable: { thread_id: threadOfSize(size), checkpoint_ns: '' } };
    return timePerOperation(count, async () => {
      for (let i = 0; i < count; i += 1) {
        for await (const tuple of saver.list(config, { limit: 10 })) void tuple;
      }
    });
  },

  /**
   * Bytes of the records a five-channel thread of `steps` supersteps stored, per store, against the bytes of
   * the values that changed (the input's five, then one per superstep), both as the saver's serializer writes them.
   */
  async storedBytes(steps: number, valueLength: number): Promise<{ stored: Record<StoreName, number>; changed: number }> {
    const saver = savers.browser;
    const thread_id = freshThread('bytes');
    const graph = buildFiveChannelGraph(saver, steps, valueLength);
    await graph.invoke(fiveChannelInput(valueLength), { configurable: { thread_id }, recursionLimit: steps + 10 });
    const changedValues = FIVE_CHANNELS.map(() => stepValue(0, valueLength));
    for (let step = 1; step <= steps; step += 1) changedValues.push(stepValue(step, valueLength));
    const serialized = await Promise.all(changedValues.map((value) => saver.serde.dumpsTyped(value)));
    const changed = serialized.reduce((sum, [, bytes]) => sum + bytes.byteLength, 0);
    const db = await raw();
    const stored = {} as Record<StoreName, number>;
    for (const store of STORE_NAMES) {
      const records = await requestResult(db.transaction(store, 'readonly').objectStore(store).getAll(prefixRange([thread_id])));
      stored[store] = records.reduce((sum: number, record: unknown) => sum + recordBytes(record), 0);
    }
    return { stored, changed };
  },

  /**
   * Starts a chat (a human message and a reply of `length` characters a turn) on a new thread; `chatTurns` runs
   * its turns, in calls short enough for the driver's protocol, and `endChat` measures what it left.
   */
  async startChat(kind: ChatSaverKind, delta: boolean, length: number): Promise<string> {
    const saver = await graphSaver(kind, 0);
    const thread_id = freshThread(`chat-${kind}-${delta ? 'delta' : 'plain'}`);
    chats.set(thread_id, { kind, saver, graph: buildChatGraph(saver, delta, length), length, turns: 0 });
    return thread_id;
  },

  /** Runs `turns` more turns of a chat; the time of each `invoke`. */
  async chatTurns(thread_id: string, turns: number): Promise<number[]> {
    const chat = chats.get(thread_id)!;
    await settle();
    const invokeMs: number[] = [];
    for (let i = 0; i < turns; i += 1) {
      const start = performance.now();
      await chat.graph.invoke({ messages: [new HumanMessage(chatText(chat.turns, 'human', chat.length))] }, { configurable: { thread_id } });
      invokeMs.push(performance.now() - start);
      chat.turns += 1;
    }
    return invokeMs;
  },

  /**
   * The time of `getState` at the chat's end, the bytes its thread's records hold, and the bytes of its messages,
   * each serialized once by the saver's serializer.
   */
  async endChat(thread_id: string): Promise<{ getStateMs: number; stored: number; byStore: Record<StoreName, number>; messages: number }> {
    const chat = chats.get(thread_id)!;
    chats.delete(thread_id);
    const start = performance.now();
    const state = await chat.graph.getState({ configurable: { thread_id } });
    const getStateMs = performance.now() - start;
    const messages = state.values.messages as BaseMessage[];
    if (messages.length !== 2 * chat.turns) throw new Error(`The chat holds ${messages.length} messages after ${chat.turns} turns.`);
    const serialized = await Promise.all(messages.map((message) => chat.saver.serde.dumpsTyped(message)));
    await settle();
    const byStore = { checkpoints: 0, blobs: 0, writes: 0 } as Record<StoreName, number>;
    if (chat.kind !== 'memory') {
      const db = await raw();
      for (const store of STORE_NAMES) {
        const records = await requestResult(db.transaction(store, 'readonly').objectStore(store).getAll(prefixRange([thread_id])));
        byStore[store] = records.reduce((sum: number, record: unknown) => sum + recordBytes(record), 0);
      }
    }
    const stored = byStore.checkpoints + byStore.blobs + byStore.writes;
    return { getStateMs, stored, byStore, messages: serialized.reduce((sum, [, bytes]) => sum + bytes.length, 0) };
  },

  /**
   * One run of the loop graph: its time, the time until everything it wrote is committed (later than the run's
   * end only with ack 'queued'), and the main thread's long tasks during the run (null where the browser cannot
   * observe them).
   */
  async graph(kind: GraphSaverKind, steps: number, yieldEachStep: boolean): Promise<{ ms: number; committedMs: number; longTasks: number[] | null }> {
    const saver = await graphSaver(kind, steps);
    await settle();
    const start = performance.now();
    await runLoopGraph(saver, steps, freshThread(`graph-${kind}`), yieldEachStep);
    const end = performance.now();
    await settle();
    const committed = performance.now();
    // Long-task entries arrive after the task ended: give the observer a turn.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const during = longTasks.filter((entry) => entry.startTime < end && entry.startTime + entry.duration > start);
    return { ms: end - start, committedMs: committed - start, longTasks: hasLongTasks ? during.map((entry) => entry.duration) : null };
  },

  /** Milliseconds until a thread of `checkpoints` checkpoints, held in memory, is interactive in the panel. */
  async panelFromMemory(checkpoints: number): Promise<number> {
    const exported = longThreads.get(checkpoints) ?? longThread(checkpoints);
    longThreads.set(checkpoints, exported);
    return timeUntilInteractive(createMemoryDataSource([exported]));
  },

  /** Stores a thread of `checkpoints` checkpoints through BrowserSaver, for `panelFromSaver`; returns how many it holds. */
  async storePanelThread(checkpoints: number): Promise<number> {
    const exported = longThread(checkpoints, PANEL_DB_NAME);
    await writeThreadExport(panelSaver, exported);
    const history = await createPageDataSource([{ saver: panelSaver }]).history(PANEL_DB_NAME, { thread_id: exported.thread_id, limit: checkpoints + 1 });
    return history.length;
  },

  /** Milliseconds until the stored thread is interactive in the panel, read from IndexedDB as the in-page panel reads it. */
  async panelFromSaver(): Promise<number> {
    return timeUntilInteractive(createPageDataSource([{ saver: panelSaver }]));
  },

  ...storeHarness,
  ...syncHarness,
};

(window as unknown as { harness: typeof harness }).harness = harness;
export type Harness = typeof harness;
