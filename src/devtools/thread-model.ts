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

/** The preview of what a step added: the messages among the writes its tasks left on the checkpoint it ran from. */
export function messagePreviewOf(parentWrites: readonly Pick<PendingWriteView, 'value'>[] | undefined): string | null {
  return parentWrites ? previewOfMessages(parentWrites.map((write) => write.value)) : null;
}

/** A checkpoint's summary; its message preview comes from its parent's writes. */
export function summaryOfDetail(detail: CheckpointDetail, parent: CheckpointDetail | undefined): CheckpointSummary {
  const { thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, step, source, ts, nodes } = detail;
  return { thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, step, source, ts, nodes, message_preview: messagePreviewOf(parent?.pending_writes) };
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
