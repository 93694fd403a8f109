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
