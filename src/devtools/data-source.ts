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
  /**
   * The nodes of the step that runs from this checkpoint, as LangGraph's `getState().next` names them, read from
   * its channel versions (a node whose trigger channel moved since the node last saw it). Nodes reached by `Send`
   * are known only from the checkpoint's values: a `CheckpointDetail` has them, a summary read from IndexedDB not.
   */
  next: string[];
  /** The nodes whose tasks stopped on `interrupt()` at this checkpoint. */
  interrupts: string[];
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

/** A node of the page's compiled graph; a subgraph's nodes are named by their path, `summarize:count`. */
export interface GraphNodeView {
  id: string;
  /** The name shown: the last part of the id. */
  name: string;
}

export interface GraphEdgeView {
  source: string;
  target: string;
  /** Taken only when a condition (a branch function, `Send` or `Command`) says so: drawn dashed. */
  conditional: boolean;
  label: string | null;
}

/** The compiled graph as LangGraph describes it (`getGraphAsync({ xray: true })`), as plain data. */
export interface GraphDescription {
  nodes: GraphNodeView[];
  edges: GraphEdgeView[];
}

/** Nodes to pause at when the graph runs on: LangGraph's `interruptBefore` and `interruptAfter`. */
export interface Breakpoints {
  interruptBefore: string[];
  interruptAfter: string[];
}

/** One item of a long-term memory store (`BrowserStore`), as the Store view shows it. */
export interface StoreItemView {
  namespace: string[];
  key: string;
  value: JsonValue;
  /** ISO 8601. */
  created_at: string;
  updated_at: string;
  /** When the item expires (ISO 8601), for items put with a TTL. */
  expires_at: string | null;
}

export interface StoreItemQuery {
  /** Items under this namespace prefix; every item when empty. */
  namespace: string[];
  /** Keeps items whose text holds every word of it, in any case. */
  text?: string;
  limit: number;
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
  /** Runs the graph on from a checkpoint, pausing at `breakpoints`; needs `timeTravel`. */
  resume(dbName: string, key: CheckpointKey, breakpoints?: Breakpoints): Promise<void>;
  /** The page's graph as LangGraph describes it; null when the page gave none. */
  graph(dbName: string): Promise<GraphDescription | null>;
  /** The page's long-term memory store databases. */
  storeDatabases(): Promise<string[]>;
  /** Every namespace of a store database that holds items, in key order. */
  storeNamespaces(dbName: string): Promise<string[][]>;
  /** Items of a store database in key order, read without refreshing their TTLs. */
  storeItems(dbName: string, query: StoreItemQuery): Promise<StoreItemView[]>;
  /**
   * Calls `listener` with the database's name (checkpoints or store) whenever it may have changed (`''`: any).
   * Returns `unsubscribe`.
   */
  subscribe(listener: (dbName: string) => void): () => void;
}
