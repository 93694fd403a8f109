// Random conversations on the test chat graph, played the same way on any two checkpointers, and what a user of the
// graph sees of them, in a form that compares across savers (checkpoint and task ids differ between two runs).
import type { BaseCheckpointSaver, CheckpointTuple } from '@langchain/langgraph-checkpoint';
import { buildChatGraph, human } from './chat-graph.js';
import { collect } from './fixtures.js';

/** A small deterministic generator, so that a failing sequence can be replayed from its seed. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** The first word of a human message decides the reply (see chat-graph.ts). */
const WORDS = ['hello', 'remove', 'replace', 'fanout', 'sub', 'tell me more', 'and then?'];

/**
 * Every checkpoint of a thread, in every namespace, as `list` returns it: values, versions (their whole part),
 * metadata, pending writes (channel and value, sorted) and the parent. Ids differ between two runs, so each
 * checkpoint is named by its namespace and its place among that namespace's checkpoints in id order (ids are
 * time-ordered), and a subgraph's namespace (which holds a task id) by its node and the parent graph's checkpoint.
 * A DeltaChannel snapshot kept at its version by a later checkpoint is left out (see `isSnapshotKept`).
 */
export async function comparableTuples(checkpointer: BaseCheckpointSaver, thread_id: string): Promise<unknown[]> {
  const tuples = await collect(checkpointer.list({ configurable: { thread_id } }));
  const idOf = (tuple: CheckpointTuple) => String(tuple.config.configurable?.checkpoint_id);
  const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const byNamespace = new Map<string, CheckpointTuple[]>();
  for (const tuple of tuples) {
    const ns = String(tuple.config.configurable?.checkpoint_ns ?? '');
    if (!byNamespace.has(ns)) byNamespace.set(ns, []);
    byNamespace.get(ns)!.push(tuple);
  }
  const places = new Map<string, string>();
  const place = (id: unknown) => places.get(String(id)) ?? `not listed: ${String(id)}`;
  const named: [label: string, tuples: CheckpointTuple[]][] = [];
  // The root namespace ('') sorts first: subgraph namespaces are named after its checkpoints.
  for (const [ns, inNamespace] of [...byNamespace].sort(([a], [b]) => byText(a, b))) {
    inNamespace.sort((a, b) => byText(idOf(a), idOf(b)));
    const label = ns === '' ? '' : `${ns.split(':')[0]}@${place(inNamespace[0]!.metadata?.parents?.[''])}`;
    inNamespace.forEach((tuple, index) => places.set(idOf(tuple), `${label}#${index}`));
    named.push([label, inNamespace]);
  }
  named.sort(([a], [b]) => byText(a, b));
  const versionsOf = new Map(tuples.map((tuple) => [idOf(tuple), tuple.checkpoint.channel_versions]));
  // A DeltaChannel's snapshot is stored at a version new at its checkpoint. A later checkpoint that keeps that version
  // gets no value from LangGraph; MemorySaver returns none for it, while savers that store values by version (this
  // project's, PostgresSaver) return the snapshot stored at it, which LangGraph reads as the same value.
  const isSnapshotKept = (checkpoint: CheckpointTuple['checkpoint'], parentId: unknown, channel: string, value: unknown) =>
    (value as { lg_name?: unknown } | null)?.lg_name === 'DeltaSnapshot' && versionsOf.get(String(parentId))?.[channel] === checkpoint.channel_versions[channel];
  return named.flatMap(([, inNamespace]) =>
    inNamespace.map(({ checkpoint, metadata, pendingWrites, parentConfig }) => ({
      at: place(checkpoint.id),
      parent: parentConfig ? place(parentConfig.configurable?.checkpoint_id) : undefined,
      // MemorySaver also returns an empty `__pregel_tasks` it has no version of.
      values: Object.fromEntries(
        Object.entries(checkpoint.channel_values).filter(
          ([channel, value]) => channel in checkpoint.channel_versions && !isSnapshotKept(checkpoint, parentConfig?.configurable?.checkpoint_id, channel, value),
        ),
      ),
      // Savers may add a random fraction to a version (as this project's do, so that two devices never meet the same one).
      versions: Object.fromEntries(Object.entries(checkpoint.channel_versions).map(([channel, version]) => [channel, Number.parseInt(String(version), 10)])),
      metadata: { ...metadata, parents: Object.fromEntries(Object.entries(metadata?.parents ?? {}).map(([ns, id]) => [ns, place(id)])) },
      writes: (pendingWrites ?? []).map(([, channel, value]) => JSON.stringify([channel, value])).sort(),
    })),
  );
}

/**
 * Plays one random conversation: turns with every kind of reply, and forks (`updateState` on an earlier
 * checkpoint, then a turn from there). Returns what a user of the graph sees (the state and the whole history),
 * every stored checkpoint (`comparableTuples`), and what the conversation did: its forks and the first words of
 * its messages.
 */
export async function playChat(checkpointer: BaseCheckpointSaver, seed: number, turns: number, delta: boolean, snapshotFrequency?: number) {
  const next = random(seed);
  const graph = buildChatGraph(checkpointer, snapshotFrequency === undefined ? { delta } : { delta, snapshotFrequency });
  const config = { configurable: { thread_id: `chat-${seed}` } };
  let forks = 0;
  const words = new Set<string>();
  for (let turn = 0; turn < turns; turn += 1) {
    const word = WORDS[Math.floor(next() * WORDS.length)]!;
    words.add(word);
    const text = `${word} ${'x'.repeat(Math.floor(next() * 50))}`;
    if (turn > 3 && next() < 0.15) {
      const history = [];
      for await (const snapshot of graph.getStateHistory(config)) history.push(snapshot);
      const from = history[Math.floor(next() * history.length)]!;
      const forked = await graph.updateState(from.config, { messages: [human(`fork ${text}`, turn, 1)] });
      await graph.invoke({ messages: [human(text, turn, 2)] }, forked);
      forks += 1;
      continue;
    }
    await graph.invoke({ messages: [human(text, turn)] }, config);
  }
  const history = [];
  for await (const snapshot of graph.getStateHistory(config)) {
    history.push({ values: snapshot.values, next: snapshot.next, step: snapshot.metadata?.step, source: snapshot.metadata?.source });
  }
  return {
    state: (await graph.getState(config)).values,
    history,
    tuples: await comparableTuples(checkpointer, config.configurable.thread_id),
    forks,
    words,
  };
}
