// `npm run bench`: builds the benchmark page, drives it in headless Chromium, then Firefox, then WebKit (WebKitGTK
// over WebDriver on an Xvfb display, as the WebKit tests do), each on a fresh profile, and prints the table of ratios it writes to BENCHMARKS.md. Every ratio compares variants
// measured in the same run of the same engine, alternated round by round, so that a noisy machine slows them alike.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureChromium, ensureFirefox, ensurePostgres, ensureWebKit } from '../scripts/ensure-browser.mjs';
import { findPostgresBin } from '../scripts/postgres.mjs';
import {
  callHarness,
  freshProfile,
  launchChromium,
  launchFirefox,
  openHarness,
  serveBuiltPages,
  type EngineBrowser,
  type HarnessPage,
  type ServedPages,
} from '../test/support/browser.js';
import { launchWebKit } from '../test/support/webkit.js';
import { startDemoServer } from '../test/support/demo-server.js';
import { startPostgresCluster } from '../test/support/postgres.js';
import type { Harness } from './page/harness.js';
import { formatMs, markdownTable, median, targetSummary, textTable, type EngineResults, type OtherEngine, type Row, type Section } from './report.js';

const THREAD_SIZES = [100, 1_000, 10_000] as const;
const GRAPH_STEPS = 1_000;
const CONCURRENT_TASKS = 8;
const BYTES_VALUE_LENGTH = 1_024;
const PANEL_CHECKPOINTS = 10_000;
const ROUNDS = { writes: 9, reads: 7, graph: 5, panel: 5, store: 5 };
/** The store rows' vectors: the deterministic embeddings' dimensions, as the page sets them. */
const DIMS_LABEL = '64-dimension vectors';
const CHAT_TURNS = Number(process.env['JUNCTURE_BENCH_CHAT_TURNS'] ?? 1_000);
const CHAT_MESSAGE_LENGTH = 400;
const CHAT_WINDOW = 50;
const ENCRYPTION_CHAT_TURNS = 100;
const SYNC_TURNS = Number(process.env['JUNCTURE_BENCH_SYNC_TURNS'] ?? 1_000);
const SYNC_LIVE_ROUNDS = 20;
/** New devices that each pull the whole chat, for the first sync's pull row. */
const SYNC_FIRST_PULLS = 5;
/** `JUNCTURE_BENCH_ONLY=long,store` runs those sections alone and prints them, leaving BENCHMARKS.md as it is. */
const ONLY = process.env['JUNCTURE_BENCH_ONLY']?.split(',');

const pageRoot = fileURLToPath(new URL('./page/', import.meta.url));
const benchmarksFile = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
const RESULTS_START = '<!-- bench:results:start -->';
const RESULTS_END = '<!-- bench:results:end -->';

type HarnessCall = <M extends keyof Harness>(method: M, ...args: Parameters<Harness[M]>) => Promise<Awaited<ReturnType<Harness[M]>>>;

function harnessOf(page: HarnessPage): HarnessCall {
  return (method, ...args) => callHarness(page, method, ...args);
}

/**
 * Runs every variant once as a warm-up, then `rounds` times, each round in another order, and returns each
 * variant's samples; sample i of every variant comes from round i.
 */
async function alternate<T>(label: string, rounds: number, variants: Record<string, () => Promise<T>>): Promise<Record<string, T[]>> {
  const names = Object.keys(variants);
  const samples: Record<string, T[]> = Object.fromEntries(names.map((name) => [name, []]));
  const started = Date.now();
  for (const name of names) await variants[name]!();
  for (let round = 0; round < rounds; round += 1) {
    for (let i = 0; i < names.length; i += 1) {
      const name = names[(round + i) % names.length]!;
      samples[name]!.push(await variants[name]!());
    }
  }
  console.log(`  ${label}: ${rounds} rounds of ${names.length} variants in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return samples;
}

/** The median over rounds of `variant / anchor` (`'time'`) or `anchor / variant` (`'rate'`), round by round. */
function ratioOf(variant: number[], anchor: number[], kind: 'time' | 'rate'): number {
  return median(variant.map((value, round) => (kind === 'time' ? value / anchor[round]! : anchor[round]! / value)));
}

async function measureWrites(call: HarnessCall): Promise<Section[]> {
  const samples = await alternate('writes', ROUNDS.writes, {
    rawOne: () => call('rawPutOnePerTransaction', 100),
    rawMany: () => call('rawPutAllInOneTransaction', 1_000),
    rawWithBlobs: () => call('rawPutWithBlobsPerTransaction', 100),
    putBrowser: () => call('put', 'browser', 100),
    putWorker: () => call('put', 'worker', 100),
    putQueued: () => call('put', 'queued', 100),
    writesBrowser: () => call('concurrentPutWrites', 'browser', 25, CONCURRENT_TASKS),
    writesWorker: () => call('concurrentPutWrites', 'worker', 25, CONCURRENT_TASKS),
  });
  const rate = (name: string, per: string, target?: number): Omit<Row, 'name'> => ({
    measured: formatMs(median(samples[name]!), per),
    ratio: { value: ratioOf(samples[name]!, samples['rawOne']!, 'rate'), against: 'the raw one-put rate' },
    ...(target === undefined ? {} : { target: { op: '>=', value: target } }),
  });
  const tasks = `putWrites, ${CONCURRENT_TASKS} tasks at once (2 writes each)`;
  return [
    {
      title: 'Raw IndexedDB: writes (the anchor)',
      rows: [
        { name: 'one put per readwrite transaction (a checkpoint record)', measured: formatMs(median(samples['rawOne']!), 'put') },
        { name: '1,000 puts in one transaction', ...rate('rawMany', 'put') },
        { name: 'a checkpoint record with its 2 changed blobs per transaction (what a saver put stores)', ...rate('rawWithBlobs', 'put') },
      ],
    },
    {
      title: 'Savers: writes, each awaited (LangGraph.js loop checkpoints)',
      rows: [
        { name: 'BrowserSaver put', ...rate('putBrowser', 'put', 0.8) },
        { name: 'WorkerSaver put (ack committed)', ...rate('putWorker', 'put', 0.8) },
        { name: 'WorkerSaver put (ack queued)', ...rate('putQueued', 'put') },
        { name: `BrowserSaver ${tasks}`, ...rate('writesBrowser', 'putWrites', 3) },
        { name: `WorkerSaver ${tasks}`, ...rate('writesWorker', 'putWrites', 3) },
      ],
    },
  ];
}

/** Encryption at rest: the same calls with and without a key, round by round. */
async function measureEncryption(call: HarnessCall): Promise<Section[]> {
  const turns = ENCRYPTION_CHAT_TURNS;
  await call('fillEncryptionChats', turns, CHAT_MESSAGE_LENGTH);
  const variants: Record<string, () => Promise<number>> = {};
  for (const kind of ['browser', 'worker'] as const) {
    for (const encrypted of [false, true]) {
      const label = `${kind}-${encrypted ? 'encrypted' : 'clear'}`;
      variants[`put-${label}`] = () => call('put', kind, 100, encrypted);
      variants[`getTuple-${label}`] = () => call('getTupleChat', kind, encrypted, turns, 20);
    }
  }
  const samples = await alternate('encryption', ROUNDS.writes, variants);
  const rows: Row[] = [];
  for (const [kind, saver] of [['browser', 'BrowserSaver'], ['worker', 'WorkerSaver']] as const) {
    for (const [operation, what, per] of [
      ['put', 'put (LangGraph.js loop checkpoints)', 'put'],
      ['getTuple', `getTuple latest of a ${turns}-turn chat (${2 * turns} messages of ${CHAT_MESSAGE_LENGTH} characters)`, 'read'],
    ] as const) {
      const clear = samples[`${operation}-${kind}-clear`]!;
      const encrypted = samples[`${operation}-${kind}-encrypted`]!;
      rows.push(
        { name: `${saver} ${what}, in clear`, measured: formatMs(median(clear), per) },
        { name: `${saver} ${what}, encrypted`, measured: formatMs(median(encrypted), per), ratio: { value: ratioOf(encrypted, clear, 'time'), against: 'in clear' } },
      );
    }
  }
  return [{ title: 'Encryption at rest (AES-GCM, one IV per value)', rows }];
}

async function measureReads(call: HarnessCall): Promise<Section[]> {
  const variants: Record<string, () => Promise<number>> = {};
  for (const size of THREAD_SIZES) {
    variants[`rawLatest${size}`] = () => call('rawLatest', size, 100);
    variants[`rawLatestWithValues${size}`] = () => call('rawLatestWithValues', size, 100);
    variants[`rawGetAll${size}`] = () => call('rawGetAllTen', size, 50);
    for (const kind of ['browser', 'worker'] as const) {
      variants[`getTuple-${kind}${size}`] = () => call('getTupleLatest', kind, size, 100);
      variants[`list-${kind}${size}`] = () => call('listTen', kind, size, 50);
    }
  }
  const samples = await alternate('reads', ROUNDS.reads, variants);
  const count = (size: number) => `${size.toLocaleString('en-US')} checkpoints`;
  const anchors: Row[] = THREAD_SIZES.flatMap((size) => [
    { name: `latest via prev cursor, ${count(size)}`, measured: formatMs(median(samples[`rawLatest${size}`]!), 'read') },
    {
      name: `latest via prev cursor, then its blobs and writes (what getTuple reads), ${count(size)}`,
      measured: formatMs(median(samples[`rawLatestWithValues${size}`]!), 'read'),
      ratio: { value: ratioOf(samples[`rawLatestWithValues${size}`]!, samples[`rawLatest${size}`]!, 'time'), against: 'the raw cursor' },
    },
    { name: `getAll(range, 10), ${count(size)}`, measured: formatMs(median(samples[`rawGetAll${size}`]!), 'read') },
  ]);
  const savers: Row[] = [];
  for (const [kind, saver] of [['browser', 'BrowserSaver'], ['worker', 'WorkerSaver']] as const) {
    for (const size of THREAD_SIZES) {
      const own = samples[`getTuple-${kind}${size}`]!;
      savers.push({
        name: `${saver} getTuple latest, ${count(size)}`,
        measured: formatMs(median(own), 'read'),
        ratio: { value: ratioOf(own, samples[`rawLatest${size}`]!, 'time'), against: 'the raw cursor' },
        target: { op: '<=', value: 2 },
      });
    }
    const largest = samples[`getTuple-${kind}${THREAD_SIZES[2]}`]!;
    const smallest = samples[`getTuple-${kind}${THREAD_SIZES[0]}`]!;
    savers.push({
      name: `${saver} getTuple latest, 10,000 against 100 checkpoints`,
      measured: `${formatMs(median(largest), '')} / ${formatMs(median(smallest), '')}`,
      ratio: { value: ratioOf(largest, smallest, 'time'), against: '' },
      target: { op: '<=', value: 1.5 },
    });
    for (const size of THREAD_SIZES) {
      const own = samples[`list-${kind}${size}`]!;
      savers.push({
        name: `${saver} list limit 10, ${count(size)}`,
        measured: formatMs(median(own), 'list'),
        ratio: { value: ratioOf(own, samples[`rawGetAll${size}`]!, 'time'), against: 'raw getAll' },
        target: { op: '<=', value: 2 },
      });
    }
  }
  return [
    { title: 'Raw IndexedDB: reads (the anchors)', rows: anchors },
    { title: 'Savers: reads (threads written by the loop graph)', rows: savers },
  ];
}

async function measureGraph(call: HarnessCall, yieldEachStep: boolean): Promise<Section[]> {
  const variant = yieldEachStep ? 'whose node awaits the next task' : 'running every superstep in one task';
  const samples = await alternate(`graph ${variant}`, ROUNDS.graph, {
    memory: () => call('graph', 'memory', GRAPH_STEPS, yieldEachStep),
    floor: () => call('graph', 'floor', GRAPH_STEPS, yieldEachStep),
    pageTransaction: () => call('graph', 'pageTransaction', GRAPH_STEPS, yieldEachStep),
    workerTransaction: () => call('graph', 'workerTransaction', GRAPH_STEPS, yieldEachStep),
    browser: () => call('graph', 'browser', GRAPH_STEPS, yieldEachStep),
    worker: () => call('graph', 'worker', GRAPH_STEPS, yieldEachStep),
    queued: () => call('graph', 'queued', GRAPH_STEPS, yieldEachStep),
  });
  const times = (name: string) => samples[name]!.map((run) => run.ms);
  // A saver that acknowledges after the commit is held to its floor: MemorySaver with one raw commit per put,
  // chained as LangGraph chains its puts, in the same rounds.
  const savers = [
    ['memory', 'MemorySaver', undefined, undefined, undefined],
    ['floor', 'Floor: MemorySaver plus one chained raw IndexedDB commit per put', undefined, undefined, 'memory'],
    // Not targets: what the savers' own transaction costs by hand, so that what bounds them is measured in each run.
    [
      'pageTransaction',
      "MemorySaver plus the savers' transaction by hand, in the page (the record BrowserSaver stores, the same stores, the journal setting and the parent read beside it, no commit())",
      undefined,
      undefined,
      'floor',
    ],
    ['workerTransaction', 'the same, by a worker of plain postMessage (one message each way)', undefined, undefined, 'floor'],
    ['browser', 'BrowserSaver', undefined, undefined, 'floor'],
    ['worker', 'WorkerSaver (ack committed)', 1.3, 0, 'floor'],
    ['queued', 'WorkerSaver (ack queued)', 1.25, 0, 'memory'],
  ] as const;
  const anchors = { memory: 'MemorySaver', floor: 'the floor' };
  const perStep = (name: string) => formatMs(median(times(name)) / GRAPH_STEPS, 'superstep');
  const graphRows: Row[] = savers.map(([name, saver, target, , anchor]) => {
    if (anchor === undefined) return { name: saver, measured: perStep(name) };
    const committed = median(samples[name]!.map((run) => run.committedMs)) / GRAPH_STEPS;
    return {
      name: saver,
      measured: name === 'queued' ? `${perStep(name)} (all committed: ${formatMs(committed, 'superstep')})` : perStep(name),
      ratio: { value: ratioOf(times(name), times(anchor), 'time'), against: anchors[anchor] },
      // The targets are for the graph as LangGraph runs it on its own, in one task.
      ...(target === undefined || yieldEachStep ? {} : { target: { op: '<=' as const, value: target } }),
    };
  });
  const longTaskRows: Row[] = savers.filter(([name]) => name === 'memory' || name === 'browser' || name === 'worker' || name === 'queued').map(([name, saver, , target]) => {
    if (samples[name]!.some((run) => run.longTasks === null)) return { name: saver, measured: 'n/a', ratio: 'n/a' };
    const durations = samples[name]!.flatMap((run) => run.longTasks ?? []);
    return {
      name: saver,
      measured: durations.length === 0 ? 'none' : `longest ${formatMs(Math.max(...durations), '')}, total ${formatMs(durations.reduce((a, b) => a + b, 0), '')}`,
      ratio: { value: durations.length, against: `in ${ROUNDS.graph} runs`, unit: '' },
      ...(target === undefined ? {} : { target: { op: '<=' as const, value: target } }),
    };
  });
  const steps = GRAPH_STEPS.toLocaleString('en-US');
  return [
    { title: `LangGraph.js loop graph ${variant}, ${steps} supersteps (the anchor: MemorySaver)`, rows: graphRows },
    { title: `Main-thread long tasks (over 50 ms) during those runs`, rows: longTaskRows },
  ];
}

async function measureBytes(call: HarnessCall): Promise<Section[]> {
  const { stored, changed } = await call('storedBytes', GRAPH_STEPS, BYTES_VALUE_LENGTH);
  const total = stored.checkpoints + stored.blobs + stored.writes;
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
  return [
    {
      title: 'Bytes stored (summed over records)',
      rows: [
        {
          name: `${GRAPH_STEPS.toLocaleString('en-US')} supersteps, one of five channels changes per step, ${BYTES_VALUE_LENGTH.toLocaleString('en-US')}-character values`,
          measured: `${kb(total)} (checkpoints ${kb(stored.checkpoints)}, blobs ${kb(stored.blobs)}, writes ${kb(stored.writes)}) for ${kb(changed)} changed`,
          ratio: { value: total / changed, against: 'the changed bytes' },
          target: { op: '<=', value: 1.3 },
        },
      ],
    },
  ];
}

/**
 * Each chat in a browser of its own: in one page, a chat ran slower after another had (in WebKit, the same
 * BrowserSaver chat's last 50 turns took 102 ms first and 135 ms after a MemorySaver chat, and MemorySaver's
 * 118 ms first and 136 ms after BrowserSaver's), so the saver that ran first was favoured.
 */
async function measureLongConversations(engine: Engine, pages: ServedPages): Promise<Section[]> {
  const turns = CHAT_TURNS.toLocaleString('en-US');
  const runs: Record<string, { invokeMs: number[] } & Awaited<ReturnType<Harness['endChat']>>> = {};
  const started = Date.now();
  for (const delta of [false, true]) {
    for (const kind of ['memory', 'browser', 'worker'] as const) {
      runs[`${kind}-${delta}`] = await inOwnBrowser(engine, pages, async (call) => {
        const thread = await call('startChat', kind, delta, CHAT_MESSAGE_LENGTH);
        const invokeMs: number[] = [];
        // In calls of twenty turns: a longer call (a hundred of the last turns in Firefox on a loaded machine)
        // can outlast the driver's protocol timeout.
        while (invokeMs.length < CHAT_TURNS) invokeMs.push(...(await call('chatTurns', thread, Math.min(20, CHAT_TURNS - invokeMs.length))));
        return { invokeMs, ...(await call('endChat', thread)) };
      });
    }
  }
  console.log(`  long conversations: 6 chats of ${turns} turns in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const last = (run: (typeof runs)[string]) => median(run.invokeMs.slice(-CHAT_WINDOW));
  const first = (run: (typeof runs)[string]) => median(run.invokeMs.slice(0, CHAT_WINDOW));
  const memoryPlain = runs['memory-false']!;
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
  const sections: Section[] = [];
  for (const delta of [false, true]) {
    const reducer = delta ? 'DeltaChannel (MessagesDeltaValue)' : 'plain reducer (MessagesAnnotation)';
    const savers = [
      ['memory', 'MemorySaver'],
      ['browser', 'BrowserSaver'],
      ['worker', 'WorkerSaver'],
    ] as const;
    const rows: Row[] = [];
    for (const [kind, name] of savers) {
      const run = runs[`${kind}-${delta}`]!;
      if (kind !== 'memory') {
        rows.push({
          name: `${name}: bytes stored`,
          measured:
            `${mib(run.stored)} (checkpoints ${mib(run.byStore.checkpoints)}, values ${mib(run.byStore.blobs)}, ` +
            `writes ${mib(run.byStore.writes)}) for ${mib(run.messages)} of messages`,
          ratio: { value: run.stored / run.messages, against: "the messages' own bytes" },
          target: { op: '<=', value: 3 },
        });
      }
      rows.push({
        name: `${name}: invoke, median of the last ${CHAT_WINDOW} turns`,
        measured: formatMs(last(run), 'turn'),
        ratio: { value: last(run) / last(memoryPlain), against: `MemorySaver's last ${CHAT_WINDOW} (plain reducer)` },
        ...(kind === 'memory' ? {} : { target: { op: '<=' as const, value: delta ? 1.5 : 1 } }),
      });
      rows.push({
        name: `${name}: last ${CHAT_WINDOW} turns against the first ${CHAT_WINDOW}`,
        measured: `${formatMs(last(run), '')} / ${formatMs(first(run), '')}`,
        ratio: { value: last(run) / first(run), against: `its first ${CHAT_WINDOW}` },
      });
      rows.push({ name: `${name}: getState at turn ${turns}`, measured: formatMs(run.getStateMs, '') });
    }
    sections.push({ title: `Long conversations, ${reducer}: ${turns} turns, two ${CHAT_MESSAGE_LENGTH}-character messages a turn (one run each, each in a browser of its own)`, rows });
  }
  return sections;
}

const STORE_ITEMS = 10_000;

async function measureStore(call: HarnessCall): Promise<Section[]> {
  const filled = await call('fillStores', STORE_ITEMS);
  if (filled !== STORE_ITEMS) throw new Error(`The store holds ${filled} items.`);
  const kinds = ['browser', 'worker', 'memory'] as const;
  const variants: Record<string, () => Promise<number>> = {
    rawPut: () => call('rawPut', 50),
    rawGet: () => call('rawGet', 100),
    rawFiltered: () => call('rawFilteredSearch', 20),
    rawVector: () => call('rawVectorSearch', 10),
  };
  for (const kind of kinds) {
    variants[`put-${kind}`] = () => call('storePut', kind, 50);
    variants[`get-${kind}`] = () => call('storeGet', kind, 100);
    variants[`filtered-${kind}`] = () => call('storeFilteredSearch', kind, 20);
    variants[`vector-${kind}`] = () => call('storeVectorSearch', kind, 10);
  }
  const samples = await alternate('store', ROUNDS.store, variants);
  const names = { browser: 'BrowserStore', worker: 'WorkerStore', memory: 'InMemoryStore' };
  const operations = [
    ['put', 'rawPut', 'put, each awaited (item, vector, namespace count; embedding first)', 'put'],
    ['get', 'rawGet', 'get by key', 'get'],
    ['filtered', 'rawFiltered', 'search with a filter (colour and a number range), first 10', 'search'],
    ['vector', 'rawVector', `search by vector over ${STORE_ITEMS.toLocaleString('en-US')} ${DIMS_LABEL}, first 10`, 'search'],
  ] as const;
  const rows: Row[] = operations.flatMap(([operation, anchor, label, per]) => [
    { name: `raw IndexedDB ${label}`, measured: formatMs(median(samples[anchor]!), per) },
    ...kinds.map((kind): Row => ({
      name: `${names[kind]} ${label}`,
      measured: formatMs(median(samples[`${operation}-${kind}`]!), per),
      ratio: { value: ratioOf(samples[`${operation}-${kind}`]!, samples[anchor]!, 'time'), against: 'raw IndexedDB' },
    })),
  ]);
  return [{ title: `Long-term memory: stores over ${STORE_ITEMS.toLocaleString('en-US')} items (the anchor: raw IndexedDB on the same records)`, rows }];
}

async function measurePanel(call: HarnessCall): Promise<Section[]> {
  const stored = await call('storePanelThread', PANEL_CHECKPOINTS);
  if (stored !== PANEL_CHECKPOINTS) throw new Error(`The panel's thread holds ${stored} checkpoints.`);
  const samples = await alternate('panel', ROUNDS.panel, {
    memory: () => call('panelFromMemory', PANEL_CHECKPOINTS),
    saver: () => call('panelFromSaver'),
  });
  const untilInteractive = (name: string, label: string): Row => {
    const ms = median(samples[name]!);
    return { name: label, measured: formatMs(ms, ''), ratio: { value: ms / 1000, against: '', unit: ' s' }, target: { op: '<=', value: 1 } };
  };
  const checkpoints = `${PANEL_CHECKPOINTS.toLocaleString('en-US')}-checkpoint thread`;
  return [
    {
      title: `Devtools panel: time until a ${checkpoints} is interactive (rows shown, a clicked row selected)`,
      rows: [
        untilInteractive('memory', 'held in memory (createMemoryDataSource)'),
        untilInteractive('saver', 'stored by BrowserSaver, read from IndexedDB (createPageDataSource)'),
      ],
    },
  ];
}

/** The databases behind the demo server for the sync rows: a local PostgreSQL cluster, then the embedded PGlite. */
interface SyncDatabase {
  label: string;
  databaseUrl?: string;
}

/**
 * The sync rows, against the demo server (`npm run demo`'s) serving the benchmark page so that its endpoint is on
 * the page's origin: the first sync of a long chat, and live latency between two devices, once per database.
 */
async function measureSync(browser: EngineBrowser, pages: ServedPages): Promise<Section[]> {
  const cluster = await startPostgresCluster({ fsync: true });
  try {
    const version = spawnSync(join(findPostgresBin()!, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout.match(/\d+\.\d+/)?.[0] ?? '';
    const databases: SyncDatabase[] = [
      { label: `PostgreSQL ${version}, a local cluster with default durability`, databaseUrl: cluster.url },
      { label: 'embedded PGlite' },
    ];
    const sections: Section[] = [];
    for (const database of databases) sections.push(await measureSyncOn(browser, pages, database));
    return sections;
  } finally {
    cluster.stop();
  }
}

/**
 * Both devices live, each in its own page: for each new turn on the chat's device, the milliseconds from the end of
 * its `invoke` (the turn committed locally) until the other device holds its last checkpoint.
 */
async function measureLiveTurns(browser: EngineBrowser, origin: string, call: HarnessCall): Promise<number[]> {
  await call('syncLiveStart');
  const page = await openHarness(browser, `${origin}/index.html`, { newTab: true });
  const other = harnessOf(page);
  try {
    await other('syncFollow');
    const latencies: number[] = [];
    for (let i = 0; i < SYNC_LIVE_ROUNDS; i += 1) {
      const { committedAt, id } = await call('syncLiveTurn');
      latencies.push((await other('syncHeldAt', id)) - committedAt);
    }
    return latencies;
  } finally {
    await other('syncStop');
    await call('syncStop');
    await page.close();
  }
}

async function measureSyncOn(browser: EngineBrowser, pages: ServedPages, database: SyncDatabase): Promise<Section> {
  const server = await startDemoServer({ outDir: pages.outDir, ...(database.databaseUrl ? { databaseUrl: database.databaseUrl } : {}) });
  try {
    const call = harnessOf(await openHarness(browser, `${server.origin}/index.html`, { newTab: true }));
    console.log(`sync on ${database.label}: a ${SYNC_TURNS}-turn chat`);
    await call('syncStartChat', CHAT_MESSAGE_LENGTH);
    for (let done = 0; done < SYNC_TURNS; done += 100) await call('syncChatTurns', Math.min(100, SYNC_TURNS - done));
    const first = await call('syncFirst');
    if (first.checkpoints === 0) throw new Error('The new device pulled no checkpoint.');
    // A pull is one long measurement that moves by ±20% between runs: each new device's pull is a first sync.
    const pulls = [first.pullMs];
    while (pulls.length < SYNC_FIRST_PULLS) {
      const again = await call('syncPull');
      if (again.checkpoints !== first.checkpoints) throw new Error(`A new device pulled ${again.checkpoints} checkpoints, not ${first.checkpoints}.`);
      pulls.push(again.pullMs);
    }
    console.log(`  first pulls by new devices: ${pulls.map((ms) => Math.round(ms)).join(', ')} ms`);
    const live = median(await measureLiveTurns(browser, server.origin, call));
    const turns = SYNC_TURNS.toLocaleString('en-US');
    const seconds = (ms: number, target?: number): Row => ({
      name: '',
      measured: formatMs(ms, ''),
      ratio: { value: ms / 1000, against: '', unit: ' s' },
      ...(target === undefined ? {} : { target: { op: '<=' as const, value: target } }),
    });
    return {
      title: `Sync with the demo server on ${database.label} (same machine): a ${turns}-turn chat (DeltaChannel, ${CHAT_MESSAGE_LENGTH}-character messages)`,
      rows: [
        { ...seconds(first.pushMs), name: `first sync, push: the device that made it sends every checkpoint (${first.checkpoints.toLocaleString('en-US')})` },
        { ...seconds(median(pulls), 2), name: `first sync, pull: a new device receives the whole chat (median of ${SYNC_FIRST_PULLS} new devices)` },
        {
          name: `one new turn, from its local commit until the other device (live) holds it (median of ${SYNC_LIVE_ROUNDS})`,
          measured: formatMs(live, ''),
          ratio: { value: live, against: '', unit: ' ms' },
          target: { op: '<=', value: 100 },
        },
      ],
    };
  } catch (error) {
    // What the server said about a failure it answered with 500 is in its own output.
    throw new Error(`The sync rows on ${database.label} failed: ${error instanceof Error ? error.message : String(error)}\nThe demo server's output:\n${server.output().slice(-4000)}`, { cause: error });
  } finally {
    await server.dispose();
  }
}

type Engine = 'Chromium' | 'Firefox' | 'WebKit';

/** Each engine after Chromium, with the variable that leaves it out. */
const OTHER_ENGINES = [
  { engine: 'Firefox', skip: 'JUNCTURE_SKIP_FIREFOX' },
  { engine: 'WebKit', skip: 'JUNCTURE_SKIP_WEBKIT' },
] as const;

/** The lines above the table: the machine, the engines' versions (or why one did not run), the date and rounds. */
function machine(versions: Record<Engine, string | undefined>, seconds: number): string {
  const cpus = os.cpus();
  const named = (engine: Engine, how: string) => (versions[engine] ? `${engine} ${versions[engine]} (${how})` : `${engine} not run`);
  return [
    `- Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB memory; ${os.type()} ${os.release()} ${os.arch()}`,
    `- Browsers: ${named('Chromium', 'headless')}, ${named('Firefox', 'headless')} and ${named('WebKit', 'WebKitGTK MiniBrowser over WebKitWebDriver on Xvfb')}, one after the other, each on a fresh profile; Node ${process.version}`,
    `- Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; the run took ${Math.round(seconds)} s`,
    `- Rounds: writes ${ROUNDS.writes}, reads ${ROUNDS.reads}, graph ${ROUNDS.graph}, panel ${ROUNDS.panel}, store ${ROUNDS.store}, after one warm-up round each; figures are medians, ratios the median of per-round ratios`,
    '- Reproduce: `npm ci && npm run bench` (it finds or installs Chromium, Firefox, WebKitGTK and PostgreSQL as `npm test` does; set `CHROME_PATH` or `FIREFOX_PATH` to choose one, `JUNCTURE_SKIP_FIREFOX=1` or `JUNCTURE_SKIP_WEBKIT=1` to leave one out)',
  ].join('\n');
}

function writeBenchmarks(results: string): void {
  const section = `${RESULTS_START}\n${results}\n${RESULTS_END}`;
  if (existsSync(benchmarksFile)) {
    const current = readFileSync(benchmarksFile, 'utf8');
    const start = current.indexOf(RESULTS_START);
    const end = current.indexOf(RESULTS_END);
    if (start >= 0 && end > start) {
      writeFileSync(benchmarksFile, current.slice(0, start) + section + current.slice(end + RESULTS_END.length));
      return;
    }
  }
  writeFileSync(benchmarksFile, `# Benchmarks\n\n${section}\n`);
}


/** Launches the engine on a fresh profile; `version` without the engine's name. */
async function launch(engine: Engine, profileDir: string): Promise<{ browser: EngineBrowser; version: string }> {
  if (engine === 'Chromium') {
    const context = await launchChromium(profileDir);
    return { browser: context, version: context.browser()?.version() ?? 'unknown' };
  }
  if (engine === 'Firefox') {
    const browser = await launchFirefox(profileDir);
    return { browser, version: (await browser.version()).replace(/^firefox\//i, '') };
  }
  const browser = await launchWebKit(profileDir);
  return { browser, version: browser.version };
}

/** `measure` on the harness page of a browser of its own, on a fresh profile, closed after it. */
async function inOwnBrowser<T>(engine: Engine, pages: ServedPages, measure: (call: HarnessCall) => Promise<T>): Promise<T> {
  const profile = freshProfile();
  const { browser } = await launch(engine, profile.dir);
  try {
    return await measure(harnessOf(await openHarness(browser, pages.url('index.html'))));
  } finally {
    await browser.close();
    profile.remove();
  }
}

/** Every measurement in one engine, on a profile of its own. */
async function measureEngine(engine: Engine, pages: ServedPages): Promise<{ results: EngineResults; version: string }> {
  const profile = freshProfile();
  const { browser, version } = await launch(engine, profile.dir);
  try {
    const call = harnessOf(await openHarness(browser, pages.url('index.html')));
    // The write and read rows use threads of known sizes; the other sections make their own.
    if (!ONLY || ONLY.some((name) => name === 'writes' || name === 'reads')) {
      console.log(`${engine} ${version}: filling threads of ${THREAD_SIZES.join(', ')} checkpoints`);
      const filled = await call('fillThreads', [...THREAD_SIZES]);
      if (filled.some((count, i) => count !== THREAD_SIZES[i])) throw new Error(`The threads hold ${filled.join(', ')} checkpoints.`);
    }
    const measures: [string, () => Promise<Section[]>][] = [
      ['panel', () => measurePanel(call)],
      ['writes', () => measureWrites(call)],
      ['reads', () => measureReads(call)],
      ['graph', async () => [...(await measureGraph(call, false)), ...(await measureGraph(call, true))]],
      ['bytes', () => measureBytes(call)],
      ['encryption', () => measureEncryption(call)],
      // Each chat in a browser of its own: after the other sections, WebKitGTK's page stalled in the 1,000-turn
      // chats (its web process busy for over half an hour at 4 GB resident), where on a fresh page they take minutes.
      ['long', () => measureLongConversations(engine, pages)],
      ['store', () => measureStore(call)],
      ['sync', () => measureSync(browser, pages)],
    ];
    const sections: Section[] = [];
    for (const [name, measure] of measures) if (!ONLY || ONLY.includes(name)) sections.push(...(await measure()));
    return { results: { engine, sections }, version };
  } finally {
    await browser.close();
    profile.remove();
  }
}

export async function runBenchmarks(): Promise<void> {
  const started = Date.now();
  const others = OTHER_ENGINES.filter(({ skip }) => process.env[skip] !== '1');
  // Set, so that the launchers use what was found or installed.
  process.env['CHROME_PATH'] = ensureChromium('npm run bench');
  // The sync rows run the demo server on a local PostgreSQL cluster (and on the embedded PGlite).
  if (!ONLY || ONLY.includes('sync')) process.env['JUNCTURE_PG_BIN'] = ensurePostgres('npm run bench');
  if (others.some(({ engine }) => engine === 'Firefox')) process.env['FIREFOX_PATH'] = ensureFirefox('npm run bench');
  if (others.some(({ engine }) => engine === 'WebKit')) {
    const webkit = ensureWebKit('npm run bench');
    Object.assign(process.env, { WEBKIT_BROWSER_PATH: webkit.browser, WEBKIT_DRIVER_PATH: webkit.driver, XVFB_PATH: webkit.xvfb });
  }
  console.log('Building the benchmark page');
  const pages = await serveBuiltPages(pageRoot, { index: `${pageRoot}index.html` });
  try {
    const chromium = await measureEngine('Chromium', pages);
    // Each engine's figures as soon as it is done: a later engine that fails or stalls does not take them along.
    console.log(`\nChromium:\n${textTable(chromium.results, [])}\n`);
    const versions: Record<Engine, string | undefined> = { Chromium: chromium.version, Firefox: undefined, WebKit: undefined };
    const columns: OtherEngine[] = [];
    for (const { engine, skip } of OTHER_ENGINES) {
      if (process.env[skip] === '1') {
        columns.push({ engine, results: undefined });
        continue;
      }
      const run = await measureEngine(engine, pages);
      console.log(`\n${engine}, its figures in the main column:\n${textTable(run.results, [])}\n`);
      versions[engine] = run.version;
      columns.push({ engine, results: run.results });
    }
    const seconds = (Date.now() - started) / 1000;
    const summary = [
      `${targetSummary(chromium.results)}.`,
      ...OTHER_ENGINES.map(({ engine, skip }, i) => {
        const results = columns[i]!.results;
        return results ? `${targetSummary(results)}.` : `${engine}: not run (${skip}=1).`;
      }),
    ].join(' ');
    console.log(`\n${textTable(chromium.results, columns)}\n\n${summary}`);
    if (ONLY) return;
    writeBenchmarks(`${machine(versions, seconds)}\n\n${markdownTable(chromium.results, columns)}\n\n${summary}`);
    console.log(`Wrote ${benchmarksFile}`);
  } finally {
    await pages.close();
  }
}
