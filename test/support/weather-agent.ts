import { AIMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { END, MessagesAnnotation, START, StateGraph, type BaseCheckpointSaver } from '@langchain/langgraph/web';
import { ToolNode } from '@langchain/langgraph/prebuilt';
import { z } from 'zod';

/** A tool the agent can call, answering from a fixed table: no network. */
const getWeather = tool(async ({ city }) => `It is 18°C and sunny in ${city}.`, {
  name: 'get_weather',
  description: 'The current weather in a city.',
  schema: z.object({ city: z.string() }),
});

/**
 * A stand-in for a chat model: asked a question, it calls `get_weather` for the question's last word; given the
 * tool's answer, it replies with it. Ids and token counts are fixed, so runs can be compared.
 */
function fakeModel(state: typeof MessagesAnnotation.State): { messages: BaseMessage[] } {
  const last = state.messages.at(-1);
  const turn = state.messages.filter((message) => message.getType() === 'ai').length + 1;
  if (last instanceof ToolMessage) {
    return { messages: [new AIMessage({ id: `ai-${turn}`, content: `${last.text} Enjoy your day!`, usage_metadata: { input_tokens: 40, output_tokens: 9, total_tokens: 49 } })] };
  }
  const city = (last?.text ?? '').replace(/[^\p{L}\s]/gu, '').trim().split(/\s+/).at(-1) ?? 'Paris';
  return {
    messages: [
      new AIMessage({
        id: `ai-${turn}`,
        content: '',
        tool_calls: [{ id: `call-${turn}`, name: 'get_weather', args: { city }, type: 'tool_call' }],
        usage_metadata: { input_tokens: 25, output_tokens: 12, total_tokens: 37 },
      }),
    ],
  };
}

/** A tool-calling chat agent on `MessagesAnnotation`, as most LangGraph agents are built. */
export function buildWeatherAgent(checkpointer: BaseCheckpointSaver) {
  return new StateGraph(MessagesAnnotation)
    .addNode('agent', fakeModel)
    .addNode('tools', new ToolNode([getWeather]))
    .addEdge(START, 'agent')
    .addConditionalEdges('agent', (state) => ((state.messages.at(-1) as AIMessage).tool_calls?.length ? 'tools' : END), ['tools', END])
    .addEdge('tools', 'agent')
    .compile({ checkpointer });
}
