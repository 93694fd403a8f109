// A tool-calling chat agent on BrowserSaver, shown to the devtools extension and in the in-page panel.
import { HumanMessage } from '@langchain/core/messages';
import { BrowserSaver } from '../../../src/index.js';
import { connectDevtools } from '../../../src/devtools/index.js';
import { mountDevtoolsPanel } from '../../../src/panel/index.js';
import { buildWeatherAgent } from '../../support/weather-agent.js';

const saver = new BrowserSaver({ dbName: 'e2e-conversation' });
const graph = buildWeatherAgent(saver);
connectDevtools(saver, { graph });
mountDevtoolsPanel({ saver, theme: 'light' });

(window as unknown as { harness: unknown }).harness = {
  /** Asks a question; answers the conversation as `[type, text]` pairs. */
  ask: async (thread_id: string, question: string) => {
    const state = await graph.invoke({ messages: [new HumanMessage(question)] }, { configurable: { thread_id } });
    return state.messages.map((message) => [message.getType(), message.text]);
  },
};
