import { Annotation, END, START, StateGraph } from '@langchain/langgraph/web';
import {
  MemorySaver,
  type BaseCheckpointSaver,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointMetadata,
} from '@langchain/langgraph-checkpoint';
import type { RunnableConfig } from '@langchain/core/runnables';
import { BrowserSaver } from '../../src/index.js';
import { checkpointId, makeCheckpoint, makeMetadata, threadConfig, useFreshSavers } from '../support/fixtures.js';

/** What a caller reads back of a tuple, without the parts that differ between savers by design. */
async function readBack(saver: BaseCheckpointSaver, config: RunnableConfig) {
  const tuple = await saver.getTuple(config);
  return { values: tuple?.checkpoint.channel_values, pendingWrites: tuple?.pendingWrites };
}

/** A saver wrapper of the kind apps and migration scripts write: it calls `put` without `newVersions`. */
class ForwardingSaver extends BrowserSaver {
  override put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata): Promise<RunnableConfig> {
    return super.put(config, checkpoint, metadata, undefined as unknown as ChannelVersions);
  }
}

describe('behaviour that MemorySaver defines', () => {
  const newSaver = useFreshSavers('parity');

  it.each(['constructor', 'toString', 'valueOf', 'hasOwnProperty'])('accepts a channel named "%s"', async (channel) => {
    const saver = newSaver();
    const memory = new MemorySaver();
    for (const target of [saver, memory] as BaseCheckpointSaver[]) {
      const config = await target.put(threadConfig('t'), makeCheckpoint(checkpointId(1), { [channel]: 'value' }), makeMetadata(0), { [channel]: 1 });
      await target.putWrites(config, [[channel, 'first'], ['other', 'second']], 'task');
    }
    const config = threadConfig('t', '', checkpointId(1));
    expect(await readBack(saver, config)).toEqual(await readBack(memory, config));
    expect((await readBack(saver, config)).pendingWrites).toEqual([
      ['task', channel, 'first'],
      ['task', 'other', 'second'],
    ]);
  });

  it('stores every versioned channel when put is called without newVersions', async () => {
    const saver = newSaver();
    const memory = new MemorySaver();
    for (const target of [saver, memory] as BaseCheckpointSaver[]) {
      await target.put(threadConfig('t'), makeCheckpoint(checkpointId(1), { a: 1, b: [2] }), makeMetadata(0), undefined as unknown as ChannelVersions);
    }
    expect(await readBack(saver, threadConfig('t'))).toEqual(await readBack(memory, threadConfig('t')));
    expect((await readBack(saver, threadConfig('t'))).values).toEqual({ a: 1, b: [2] });
  });

  it('keeps the state of a graph run through a saver that calls put without newVersions', async () => {
    const State = Annotation.Root({ turns: Annotation<string[]>({ reducer: (a, b) => [...a, ...b], default: () => [] }) });
    const graphOn = (checkpointer: BaseCheckpointSaver) =>
      new StateGraph(State)
        .addNode('reply', (state) => ({ turns: [`reply ${state.turns.length}`] }))
        .addEdge(START, 'reply')
        .addEdge('reply', END)
        .compile({ checkpointer });
    const config = { configurable: { thread_id: 'wrapped' } };
    const run = async (checkpointer: BaseCheckpointSaver) => {
      const graph = graphOn(checkpointer);
      for (const text of ['one', 'two', 'three']) await graph.invoke({ turns: [text] }, config);
    };
    const memory = new MemorySaver();
    await run(memory);
    const dbName = newSaver().dbName;
    const wrapped = new ForwardingSaver({ dbName });
    await run(wrapped);
    await wrapped.close();
    // Read back through a new saver on the same database, as after a reload.
    const expected = (await graphOn(memory).getState(config)).values;
    expect(expected['turns']).toHaveLength(6);
    const reopened = newSaver({ dbName });
    expect((await graphOn(reopened).getState(config)).values).toEqual(expected);
    // MemorySaver keeps the checkpoint whole; values are stored per channel version, so unversioned ones are not.
    const { checkpoint } = (await memory.getTuple(config))!;
    const versioned = Object.fromEntries(Object.entries(checkpoint.channel_values).filter(([channel]) => channel in checkpoint.channel_versions));
    expect((await reopened.getTuple(config))?.checkpoint.channel_values).toEqual(versioned);
    expect(versioned['turns']).toHaveLength(6);
  });
});
