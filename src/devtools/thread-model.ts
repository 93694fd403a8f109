import type { CheckpointDetail, CheckpointSummary, JsonValue, PendingWriteView, SearchHit, ThreadSummary } from './data-source.js';
import { previewOfMessages, searchableMessageText } from './messages.js';

/** The nodes that ran in a step: those whose entry in `versions_seen` differs from the parent checkpoint's. */
export function nodesThatRan(versionsSeen: JsonValue | undefined, parentVersionsSeen: JsonValue | undefined): string[] {
  if (typeof versionsSeen !== 'object' || versionsSeen === null || Array.isArray(versionsSeen)) return [];
  const parent = typeof parentVersionsSeen === 'object' && parentVersionsSeen !== null && !Array.isArray(parentVersionsSeen) ? parentVersionsSeen : {};
  return Object.keys(versionsSeen)
    .filter((node) => !node.startsWith('__') && JSON.stringify(versionsSeen[node]) !== JSON.stringify(parent[node]))
    .sort();
}

type Version = number | string;

const PULL_TASK = '~__pregel_pull, ';
const PUSH_TASK = '~__pregel_push, ';

const isRecord = (value: JsonValue | undefined): value is { [key: string]: JsonValue } =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function newer(version: Version, seen: JsonValue | undefined): boolean {
  if (seen === undefined || seen === null) return true;
  return typeof version === 'number' && typeof seen === 'number' ? version > seen : String(version) > String(seen);
}

/** The node a task path names: `~__pregel_pull, plan` is `plan`; a push task is the `Send` at its index. */
function nodeOfTaskPath(taskPath: string, sends: readonly string[]): string | undefined {
  if (taskPath.startsWith(PULL_TASK)) return taskPath.slice(PULL_TASK.length);
  if (taskPath.startsWith(PUSH_TASK)) return sends[Number.parseInt(taskPath.slice(PUSH_TASK.length), 10)];
  return undefined;
}

/** The node a trigger channel starts: `branch:to:NODE`'s node, `__start__` for the input; undefined for others. */
export function triggerNodeOf(channel: string): string | undefined {
  return channel === '__start__' ? '__start__' : channel.startsWith('branch:to:') ? channel.slice('branch:to:'.length) : undefined;
}

/**
 * The trigger channels that moved since their node last saw them: `branch:to:NODE`, or `__start__` for the input.
 * A node runs on one only when the channel also holds a value (`__start__` is emptied once read).
 */
export function movedTriggers(channelVersions: Readonly<Record<string, Version>>, versionsSeen: JsonValue): { channel: string; node: string }[] {
  const seen = isRecord(versionsSeen) ? versionsSeen : {};
  const moved: { channel: string; node: string }[] = [];
  for (const [channel, version] of Object.entries(channelVersions)) {
    const node = triggerNodeOf(channel);
    if (node === undefined) continue;
    const nodeSeen = seen[node];
    if (newer(version, isRecord(nodeSeen) ? nodeSeen[channel] : undefined)) moved.push({ channel, node });
  }
  return moved;
}

export interface PendingTaskInput {
  channel_versions: Readonly<Record<string, Version>>;
  versions_seen: JsonValue;
  /** Whether a channel holds a value at this checkpoint. */
  hasValue(channel: string): boolean;
  /** The checkpoint's own pending writes. */
  writes: readonly Pick<PendingWriteView, 'task_path' | 'channel'>[];
  /** The `__pregel_tasks` value, when read: the `Send`s waiting, `{ node, args }` each. */
  sends?: JsonValue;
}

/**
 * What a checkpoint's step runs, as LangGraph's `getState().next` reports it: each node whose trigger moved and
 * holds a value (`movedTriggers`), and the node of each `Send`, whether or not the step has run since. Tasks that
 * wrote `__interrupt__` are its interrupts.
 */
export function pendingTasksOf(input: PendingTaskInput): { next: string[]; interrupts: string[] } {
  const sends = Array.isArray(input.sends) ? input.sends.map((send) => (isRecord(send) && typeof send['node'] === 'string' ? send['node'] : '')) : [];
  const pulls = movedTriggers(input.channel_versions, input.versions_seen)
    .filter(({ channel }) => input.hasValue(channel))
    .map(({ node }) => node);
  const interrupts = new Set<string>();
  for (const write of input.writes) {
    const node = nodeOfTaskPath(write.task_path, sends);
    if (node !== undefined && write.channel === '__interrupt__') interrupts.add(node);
  }
  return { next: [...new Set([...pulls, ...sends.filter((node) => node !== '')])].sort(), interrupts: [...interrupts].sort() };
}

/** A detail's pending tasks, from everything it holds: Sends included. */
export function pendingTasksOfDetail(detail: Pick<CheckpointDetail, 'channel_versions' | 'versions_seen' | 'channel_values' | 'pending_writes'>) {
  return pendingTasksOf({
    channel_versions: detail.channel_versions,
    versions_seen: detail.versions_seen,
    hasValue: (channel) => channel in detail.channel_values,
    writes: detail.pending_writes,
    sends: detail.channel_values['__pregel_tasks'],
  });
}

/** The preview of what a step added: the messages among the writes its tasks left on the checkpoint it ran from. */
export function messagePreviewOf(parentWrites: readonly Pick<PendingWriteView, 'value'>[] | undefined): string | null {
  return parentWrites ? previewOfMessages(parentWrites.map((write) => write.value)) : null;
}

/** A checkpoint's summary; its message preview comes from its parent's writes. */
export function summaryOfDetail(detail: CheckpointDetail, parent: CheckpointDetail | undefined): CheckpointSummary {
  const { thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, step, source, ts, nodes } = detail;
  return {
    thread_id,
    checkpoint_ns,
    checkpoint_id,
    parent_checkpoint_id,
    step,
    source,
    ts,
    nodes,
    message_preview: messagePreviewOf(parent?.pending_writes),
    ...pendingTasksOfDetail(detail),
  };
}

/** Summaries of some of a thread's checkpoints, each with its parent looked up among `all`. */
export function summariesOfDetails(details: readonly CheckpointDetail[], all: readonly CheckpointDetail[]): CheckpointSummary[] {
  const byKey = new Map(all.map((detail) => [`${detail.checkpoint_ns}\u0000${detail.checkpoint_id}`, detail]));
  return details.map((detail) =>
    summaryOfDetail(detail, detail.parent_checkpoint_id === null ? undefined : byKey.get(`${detail.checkpoint_ns}\u0000${detail.parent_checkpoint_id}`)),
  );
}

/** A thread's summary from its checkpoints, newest first. */
export function threadSummaryOf(thread_id: string, newestFirst: readonly CheckpointSummary[]): ThreadSummary {
  return {
    thread_id,
    checkpoints: newestFirst.length,
    namespaces: [...new Set(newestFirst.map((entry) => entry.checkpoint_ns))].sort(),
    latest_checkpoint_id: newestFirst[0]?.checkpoint_id ?? '',
    latest_ts: newestFirst[0]?.ts ?? null,
  };
}

/**
 * Where `text` occurs (case-insensitive) in a thread: channel names and the values a checkpoint introduced
 * (a value carried over unchanged from the parent is reported once, where it first appears), metadata, and
 * pending writes. Values are searched as their JSON text, and messages also as the text they show.
 */
export function searchDetails(newestFirst: readonly CheckpointDetail[], text: string): SearchHit[] {
  const needle = text.trim().toLowerCase();
  if (needle === '') return [];
  const byKey = new Map(newestFirst.map((detail) => [`${detail.checkpoint_ns}\u0000${detail.checkpoint_id}`, detail]));
  const textOf = (() => {
    const cache = new WeakMap<object, string>();
    return (value: JsonValue): string => {
      if (typeof value !== 'object' || value === null) return String(value).toLowerCase();
      let cached = cache.get(value);
      if (cached === undefined) {
        cached = `${JSON.stringify(value)}\n${searchableMessageText(value)}`.toLowerCase();
        cache.set(value, cached);
      }
      return cached;
    };
  })();
  const hits: SearchHit[] = [];
  for (const detail of newestFirst) {
    const { thread_id, checkpoint_ns, checkpoint_id } = detail;
    const checkpoint = { thread_id, checkpoint_ns, checkpoint_id };
    const parent = detail.parent_checkpoint_id ? byKey.get(`${checkpoint_ns}\u0000${detail.parent_checkpoint_id}`) : undefined;
    for (const [channel, value] of Object.entries(detail.channel_values)) {
      const introduced = !parent || parent.channel_versions[channel] !== detail.channel_versions[channel];
      if (introduced && (channel.toLowerCase().includes(needle) || textOf(value).includes(needle))) {
        hits.push({ checkpoint, where: `channel "${channel}"` });
      }
    }
    if (textOf(detail.metadata).includes(needle)) hits.push({ checkpoint, where: 'metadata' });
    for (const write of detail.pending_writes) {
      if (write.channel.toLowerCase().includes(needle) || textOf(write.value).includes(needle)) {
        hits.push({ checkpoint, where: `write to "${write.channel}" by task ${write.task_id}` });
      }
    }
  }
  return hits;
}
