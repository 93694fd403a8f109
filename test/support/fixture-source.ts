import type {
  CheckpointDataSource,
  CheckpointDetail,
  CheckpointSummary,
  ThreadSummary,
} from '../../src/devtools/data-source.js';

/**
 * A data source over generated fixtures, for panel tests: `threads` threads of `checkpoints` checkpoints each,
 * in one database. `append` adds a checkpoint to a thread and tells subscribers, as a live page would.
 */
export function createFixtureSource(options: { dbName?: string; threads: number; checkpoints: number }) {
  const dbName = options.dbName ?? 'fixtures';
  let clock = 0;
  const history = new Map<string, CheckpointSummary[]>();
  const listeners = new Set<(dbName: string) => void>();

  const append = (thread_id: string, source = 'loop'): CheckpointSummary => {
    const entries = history.get(thread_id) ?? [];
    clock += 1;
    const previous = entries[0];
    const entry: CheckpointSummary = {
      thread_id,
      checkpoint_ns: '',
      checkpoint_id: `ckpt-${String(clock).padStart(6, '0')}`,
      parent_checkpoint_id: previous?.checkpoint_id ?? null,
      step: previous ? (previous.step ?? 0) + 1 : -1,
      source: previous ? source : 'input',
      ts: new Date(Date.UTC(2026, 0, 1, 0, 0, clock)).toISOString(),
    };
    history.set(thread_id, [entry, ...entries]);
    for (const listener of listeners) listener(dbName);
    return entry;
  };
  for (let thread = 0; thread < options.threads; thread += 1) {
    for (let step = 0; step < options.checkpoints; step += 1) append(`thread-${thread}`);
  }

  const source: CheckpointDataSource = {
    databases: async () => [{ name: dbName, live: true }],
    threads: async (name) =>
      name !== dbName
        ? []
        : [...history.entries()]
            .map(([thread_id, entries]): ThreadSummary => ({
              thread_id,
              checkpoints: entries.length,
              namespaces: [''],
              latest_checkpoint_id: entries[0]!.checkpoint_id,
            }))
            .sort((a, b) => (a.latest_checkpoint_id < b.latest_checkpoint_id ? 1 : -1)),
    history: async (name, query) =>
      (name === dbName ? history.get(query.thread_id) ?? [] : [])
        .filter((entry) => query.before === undefined || entry.checkpoint_id < query.before)
        .slice(0, query.limit),
    checkpoint: async (name, key): Promise<CheckpointDetail | undefined> => {
      const entry = name === dbName ? history.get(key.thread_id)?.find((candidate) => candidate.checkpoint_id === key.checkpoint_id) : undefined;
      if (!entry) return undefined;
      return {
        ...entry,
        channel_values: { counter: entry.step ?? 0 },
        channel_versions: { counter: (entry.step ?? 0) + 2 },
        versions_seen: {},
        metadata: { source: entry.source, step: entry.step, parents: {} },
        pending_writes: [],
      };
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return { source, append, dbName };
}
