/**
 * The narrow interface the panel reads through. Everything in it is plain JSON: the extension's source carries
 * it across extension messaging, the in-page one reads it directly, and tests use fixtures.
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** How a value the reader could not decrypt shows: `{ $encrypted: why, $bytes: size }`. */
export const ENCRYPTED_MARK = '$encrypted';

/** Whether a displayed value is encrypted: the mark itself, or a list whose items all are. */
export function isEncryptedValue(value: JsonValue): boolean {
  if (Array.isArray(value)) return value.length > 0 && value.every(isEncryptedValue);
  return typeof value === 'object' && value !== null && typeof value[ENCRYPTED_MARK] === 'string';
}

export interface DatabaseSummary {
  name: string;
  /** Whether the page announced this database with `connectDevtools` (it then pings on every commit). */
  live: boolean;
  /** Whether the page passed its graph to `connectDevtools`, so the panel may fork and resume. */
  timeTravel: boolean;
}

export interface ThreadSummary {
  thread_id: string;
  checkpoints: number;
  namespaces: string[];
  /** The newest checkpoint id of the thread, across namespaces. */
  latest_checkpoint_id: string;
  /** When the newest checkpoint was taken (ISO 8601), when readable. */
  latest_ts: string | null;
}

export interface CheckpointKey {
  thread_id: string;
  checkpoint_ns: string;
  checkpoint_id: string;
}

export interface CheckpointSummary extends CheckpointKey {
  parent_checkpoint_id: string | null;
  step: number | null;
  source: string | null;
  /** When the checkpoint was taken (ISO 8601), when readable. */
  ts: string | null;
  /** The nodes that ran in the step that produced this checkpoint (those whose `versions_seen` changed). */
  nodes: string[];
  /**
   * One line about the messages the step that made this checkpoint added (`ai: It is 18°C…`, `tool get_weather`),
   * from the writes stored with its parent; null when it added none.
   */
  message_preview: string | null;
}

export interface PendingWriteView {
  task_id: string;
  task_path: string;
  idx: number;
  channel: string;
  value: JsonValue;
}

export interface CheckpointDetail extends CheckpointSummary {
  channel_values: Record<string, JsonValue>;
  channel_versions: Record<string, number | string>;
  versions_seen: JsonValue;
  metadata: JsonValue;
  pending_writes: PendingWriteView[];
}

export interface HistoryQuery {
  thread_id: string;
  /** One namespace; all of the thread's when absent. */
  checkpoint_ns?: string;
  /** Only checkpoints older than this id, for paging back. */
  before?: string;
  limit: number;
}

export interface SearchHit {
  checkpoint: CheckpointKey;
  /** Where the text was found, for example `channel "messages"`, `metadata`, `write to "notes" by task t1`. */
  where: string;
}

/** A thread as exported to a file, and imported back. */
export interface ThreadExport {
  format: 'juncture-thread';
  version: 1;
  dbName: string;
  thread_id: string;
  exported_at: string;
  /** Every checkpoint of the thread with its values and pending writes, newest first. */
  checkpoints: CheckpointDetail[];
}

export interface CheckpointDataSource {
  databases(): Promise<DatabaseSummary[]>;
  threads(dbName: string): Promise<ThreadSummary[]>;
  /** A page of a thread's checkpoints, newest first. */
  history(dbName: string, query: HistoryQuery): Promise<CheckpointSummary[]>;
  checkpoint(dbName: string, key: CheckpointKey): Promise<CheckpointDetail | undefined>;
  /** Checkpoints of the thread where the text occurs in a channel name or value, metadata or a write. */
  search(dbName: string, thread_id: string, text: string): Promise<SearchHit[]>;
  exportThread(dbName: string, thread_id: string): Promise<ThreadExport>;
  /** Forks the thread at a checkpoint with new channel values (`updateState`); needs `timeTravel`. */
  fork(dbName: string, key: CheckpointKey, values: Record<string, JsonValue>): Promise<CheckpointKey>;
  /** Runs the graph on from a checkpoint; needs `timeTravel`. */
  resume(dbName: string, key: CheckpointKey): Promise<void>;
  /** Calls `listener` with the database's name whenever it may have changed (`''`: any). Returns `unsubscribe`. */
  subscribe(listener: (dbName: string) => void): () => void;
}
