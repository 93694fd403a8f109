import { deltaChannelHistoryTests, validate } from '@langchain/langgraph-checkpoint-validation';
import { BrowserSaver } from '../../src/index.js';

let databases = 0;

const initializer = {
  checkpointerName: 'BrowserSaver',
  // Each validation block gets an empty database of its own.
  createCheckpointer: () => new BrowserSaver({ dbName: `validation-${(databases += 1)}` }),
  destroyCheckpointer: async (saver: BrowserSaver) => {
    await saver.close();
    await BrowserSaver.deleteDatabase(saver.dbName);
  },
};

validate(initializer);
deltaChannelHistoryTests(initializer);

// The same contract with every value, checkpoint, metadata and write encrypted.
const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
const encryptedInitializer = {
  ...initializer,
  checkpointerName: 'BrowserSaver (encrypted)',
  createCheckpointer: () => new BrowserSaver({ dbName: `validation-${(databases += 1)}`, encryption: { key } }),
};
validate(encryptedInitializer);
deltaChannelHistoryTests(encryptedInitializer);
