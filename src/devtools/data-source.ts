/**
 * The narrow interface the panel reads through. Everything in it is plain JSON: the extension's source carries
 * it across extension messaging, the in-page one reads it directly, and tests use fixtures.
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface DatabaseSummary {
  name: string;
  /** Whether the page announced this database with `connectDevtools` (it then pings on every commit). */
  live: boolean;
}

export interface ThreadSummary {
  thread_id: string;
  checkpoints: number;
  namespaces: string[];
  /** The newest checkpoint id of the thread, across namespaces. */
  latest_checkpoint_id: string;
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

export interface CheckpointDataSource {
  databases(): Promise<DatabaseSummary[]>;
  threads(dbName: string): Promise<ThreadSummary[]>;
  /** A page of a thread's checkpoints, newest first. */
  history(dbName: string, query: HistoryQuery): Promise<CheckpointSummary[]>;
  checkpoint(dbName: string, key: CheckpointKey): Promise<CheckpointDetail | undefined>;
  /** Calls `listener` with the database's name whenever it may have changed. Returns `unsubscribe`. */
  subscribe(listener: (dbName: string) => void): () => void;
}
