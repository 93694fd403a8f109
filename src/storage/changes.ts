/**
 * Change notifications: after each commit the storage posts what changed on a BroadcastChannel named after the
 * database, so every saver, tab, worker and the devtools on the same origin hear about it.
 */
export type CheckpointChange =
  | { kind: 'checkpoint'; thread_id: string; checkpoint_ns: string; checkpoint_id: string }
  | { kind: 'writes'; thread_id: string; checkpoint_ns: string; checkpoint_id: string; task_id: string }
  | { kind: 'delete'; thread_id: string }
  /** Many checkpoints of the thread changed at once: it was pruned, or copied into. */
  | { kind: 'rewrite'; thread_id: string }
  /** The connection closed so another tab could upgrade or delete the database; it reopens on next use. */
  | { kind: 'versionchange' }
  /**
   * The browser refused a write: the origin's storage quota is full. The call rejected with `QUOTA` and stored
   * nothing; earlier data stays readable. Free space (`prune`, `deleteThread`) and the next write can succeed.
   */
  | { kind: 'quota'; action: string };

export type ChangeListener = (change: CheckpointChange) => void;

interface ChangeMessage<Change> {
  source: 'juncture-browser';
  dbName: string;
  changes: Change[];
}

export function changeChannelName(dbName: string): string {
  return `juncture:${dbName}`;
}

function isChangeMessage<Change>(data: unknown, dbName: string): data is ChangeMessage<Change> {
  const message = data as Partial<ChangeMessage<Change>> | null;
  return message?.source === 'juncture-browser' && message.dbName === dbName && Array.isArray(message.changes);
}

/**
 * Posts changes of one database (checkpoints, or a store's items: their databases never share a name). Creates its
 * channel on first use; a context without BroadcastChannel posts nothing.
 */
export class ChangeBroadcaster<Change = CheckpointChange> {
  readonly #dbName: string;
  #channel: BroadcastChannel | undefined;

  constructor(dbName: string) {
    this.#dbName = dbName;
  }

  post(changes: Change[]): void {
    if (changes.length === 0 || typeof BroadcastChannel === 'undefined') return;
    this.#channel ??= new BroadcastChannel(changeChannelName(this.#dbName));
    const message: ChangeMessage<Change> = { source: 'juncture-browser', dbName: this.#dbName, changes };
    this.#channel.postMessage(message);
  }

  close(): void {
    this.#channel?.close();
    this.#channel = undefined;
  }
}

/**
 * Calls `listener` for every change committed to the database, by this context or any other on the origin.
 * Returns the function that stops listening.
 */
export function subscribeToChanges<Change = CheckpointChange>(dbName: string, listener: (change: Change) => void): () => void {
  if (typeof BroadcastChannel === 'undefined') return () => undefined;
  const channel = new BroadcastChannel(changeChannelName(dbName));
  channel.onmessage = (event: MessageEvent) => {
    if (!isChangeMessage<Change>(event.data, dbName)) return;
    for (const change of event.data.changes) listener(change);
  };
  return () => channel.close();
}
