// The app's page: uses the installed package as an app does: `new WorkerSaver()` with no worker configuration.
import { WorkerSaver, type CheckpointChange } from 'juncture-browser';
import { emptyCheckpoint } from '@langchain/langgraph-checkpoint';

const saver = new WorkerSaver();
const heard: CheckpointChange[] = [];
saver.subscribe((change) => heard.push(change));

(window as unknown as { harness: unknown }).harness = {
  put: async (thread_id: string, text: string) => {
    const checkpoint = { ...emptyCheckpoint(), channel_values: { text }, channel_versions: { text: 1 } };
    const config = await saver.put({ configurable: { thread_id } }, checkpoint, { source: 'input', step: -1, parents: {} }, { text: 1 });
    return config.configurable?.['checkpoint_id'];
  },
  read: async (thread_id: string) => (await saver.getTuple({ configurable: { thread_id } }))?.checkpoint.channel_values['text'] ?? null,
  heard: async () => heard,
  close: () => saver.close(),
};
