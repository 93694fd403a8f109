import { AIMessage, AIMessageChunk, ChatMessage as LangChainChatMessage, HumanMessage, RemoveMessage, SystemMessage, ToolMessage } from '@langchain/core/messages';
import {
  asChatMessage,
  asChatMessages,
  diffChatMessages,
  findMessages,
  messageListsOf,
  previewOfMessages,
  searchableMessageText,
} from '../../src/devtools/messages.js';
import { searchDetails } from '../../src/devtools/thread-model.js';
import { ThreadBuilder, conversationThread, storedMessage } from '../support/fixture-threads.js';

const stored = (message: unknown) => JSON.parse(JSON.stringify(message)) as unknown;

describe('recognising messages', () => {
  it('reads LangChain\'s serialized messages, live instances and their structured clones alike', () => {
    const live = new AIMessage({ id: 'ai-1', content: 'It is 18°C.', usage_metadata: { input_tokens: 3, output_tokens: 4, total_tokens: 7 } });
    for (const shape of [live, stored(live), structuredClone({ ...live })]) {
      expect(asChatMessage(shape)).toMatchObject({
        role: 'ai',
        label: 'ai',
        id: 'ai-1',
        text: 'It is 18°C.',
        toolCalls: [],
        usage: { input: 3, output: 4, total: 7 },
        raw: shape,
      });
    }
    expect(stored(live)).toMatchObject({ lc: 1, type: 'constructor', kwargs: { content: 'It is 18°C.' } });
  });

  it('gives every kind of message its role', () => {
    const roles = [
      new HumanMessage('q'),
      new AIMessageChunk('a'),
      new ToolMessage({ content: 'r', tool_call_id: 'c' }),
      new SystemMessage('s'),
      new RemoveMessage({ id: 'gone' }),
      new LangChainChatMessage('c', 'critic'),
    ].map((message) => [asChatMessage(stored(message))?.role, asChatMessage(stored(message))?.label]);
    expect(roles).toEqual([
      ['human', 'human'],
      ['ai', 'ai'],
      ['tool', 'tool'],
      ['system', 'system'],
      ['remove', 'remove'],
      ['other', 'critic'],
    ]);
    const plain = [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'a' },
      { role: 'tool', content: 'r', tool_call_id: 'c' },
      { role: 'developer', content: 'd' },
      { type: 'human', content: 'h' },
    ].map((message) => asChatMessage(message)?.role);
    expect(plain).toEqual(['human', 'ai', 'tool', 'system', 'human']);
  });

  it('takes nothing else for a message', () => {
    for (const value of [
      'text',
      null,
      { type: 'text', text: 'a content part' },
      { role: 'user' },
      { role: 'moderator', content: 'unknown role' },
      { lc: 1, type: 'constructor', id: ['langchain_core', 'prompts', 'PromptTemplate'], kwargs: { template: 'x' } },
    ]) {
      expect(asChatMessage(value)).toBeUndefined();
    }
    expect(asChatMessages([])).toBeUndefined();
    expect(asChatMessages([{ role: 'user', content: 'q' }, 'not a message'])).toBeUndefined();
    expect(asChatMessages({ role: 'user', content: 'one' })?.map((message) => message.text)).toEqual(['one']);
  });

  it('reads multimodal content: text, images in each provider\'s form, reasoning and other parts', () => {
    const message = asChatMessage(
      stored(
        new HumanMessage({
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
            { type: 'image', source_type: 'base64', data: 'BBBB', mime_type: 'image/jpeg' },
            { type: 'image', source: { type: 'base64', media_type: 'image/webp', data: 'CCCC' } },
            { type: 'image', url: 'https://example.com/cat.png' },
            { type: 'reasoning', reasoning: 'Looks like a cat.' },
            { type: 'audio', data: 'DDDD', mimeType: 'audio/wav' },
            { type: 'text', text: 'Be brief.' },
          ],
        }),
      ),
    )!;
    expect(message.text).toBe('What is this?\nBe brief.');
    expect(message.parts).toEqual([
      { kind: 'text', text: 'What is this?' },
      { kind: 'image', url: 'data:image/png;base64,AAAA', mimeType: null },
      { kind: 'image', url: 'data:image/jpeg;base64,BBBB', mimeType: 'image/jpeg' },
      { kind: 'image', url: 'data:image/webp;base64,CCCC', mimeType: 'image/webp' },
      { kind: 'image', url: 'https://example.com/cat.png', mimeType: null },
      { kind: 'reasoning', text: 'Looks like a cat.' },
      { kind: 'other', type: 'audio', value: { type: 'audio', data: 'DDDD', mimeType: 'audio/wav' } },
      { kind: 'text', text: 'Be brief.' },
    ]);
  });

  it('reads tool calls in LangChain\'s and OpenAI\'s forms, invalid ones with their error, and tool results', () => {
    const ai = asChatMessage(
      stored(
        new AIMessage({
          content: [{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } }],
          tool_calls: [
            { id: 'call_1', name: 'get_weather', args: { city: 'Paris' } },
            { id: 'call_2', name: 'get_time', args: { timezone: 'Europe/Paris' } },
          ],
          invalid_tool_calls: [{ id: 'call_3', name: 'search', args: '{"q": ', error: 'Malformed JSON' }],
        }),
      ),
    )!;
    // The provider's copy of a call in the content is shown once, as the call.
    expect(ai.parts).toEqual([]);
    expect(ai.toolCalls).toEqual([
      { id: 'call_1', name: 'get_weather', args: { city: 'Paris' }, error: null },
      { id: 'call_2', name: 'get_time', args: { timezone: 'Europe/Paris' }, error: null },
      { id: 'call_3', name: 'search', args: '{"q": ', error: 'Malformed JSON' },
    ]);
    const openAi = asChatMessage({
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'lookup', arguments: '{"id":42}' } }],
    })!;
    expect(openAi.toolCalls).toEqual([{ id: 'call_9', name: 'lookup', args: { id: 42 }, error: null }]);
    const failed = asChatMessage(stored(new ToolMessage({ content: 'boom', tool_call_id: 'call_2', name: 'get_time', status: 'error' })))!;
    expect(failed).toMatchObject({ role: 'tool', toolCallId: 'call_2', name: 'get_time', status: 'error', text: 'boom' });
  });

  it('finds messages in an object\'s fields, and pairs channel values for a diff', () => {
    const input = { messages: [{ role: 'user', content: 'hi' }], topic: 'weather' };
    const found = findMessages(input);
    expect(found?.kind).toBe('fields');
    if (found?.kind === 'fields') {
      expect(found.fields.map(([name, messages]) => [name, messages.map((message) => message.text)])).toEqual([['messages', ['hi']]]);
      expect(found.rest).toEqual({ topic: 'weather' });
    }
    expect(findMessages({ topic: 'weather' })).toBeUndefined();
    expect(messageListsOf(undefined, [{ role: 'user', content: 'hi' }])?.map((list) => list.length)).toEqual([0, 1]);
    expect(messageListsOf([{ role: 'user', content: 'hi' }], [])?.map((list) => list.length)).toEqual([1, 0]);
    expect(messageListsOf(['note'], [{ role: 'user', content: 'hi' }])).toBeUndefined();
    expect(messageListsOf([], [])).toBeUndefined();
  });
});

describe('what changed between two lists of messages', () => {
  it('tells added, replaced (same id) and removed messages apart, matching messages without ids by content', () => {
    const before = asChatMessages([
      storedMessage('HumanMessage', { id: 'h1', content: 'Weather?' }),
      storedMessage('AIMessage', { id: 'a1', content: 'It is 17°C.' }),
      storedMessage('ToolMessage', { id: 't1', content: 'boom', tool_call_id: 'c1', status: 'error' }),
      { role: 'user', content: 'no id' },
    ])!;
    const after = asChatMessages([
      storedMessage('HumanMessage', { id: 'h1', content: 'Weather?' }),
      storedMessage('AIMessage', { id: 'a1', content: 'It is 18°C.' }),
      { role: 'user', content: 'no id' },
      { role: 'user', content: 'no id' },
    ])!;
    const changes = diffChatMessages(before, after);
    expect(changes.added.map((message) => message.text)).toEqual(['no id']);
    expect(changes.replaced.map(({ before, after }) => [before.text, after.text])).toEqual([['It is 17°C.', 'It is 18°C.']]);
    expect(changes.removed.map((message) => message.id)).toEqual(['t1']);
    expect(diffChatMessages(after, after)).toEqual({ added: [], replaced: [], removed: [] });
  });
});

describe('previews and search', () => {
  it('sums up what a step wrote in one line', () => {
    const reply = storedMessage('AIMessage', { id: 'a', content: 'It is 18°C and sunny in Paris today, with a light breeze from the west and no rain expected.' });
    expect(previewOfMessages([[reply]])).toBe('ai: It is 18°C and sunny in Paris today, with a light breeze fr…');
    const calls = storedMessage('AIMessage', { content: '', tool_calls: [{ id: 'c1', name: 'get_weather', args: {} }, { id: 'c2', name: 'get_time', args: {} }] });
    expect(previewOfMessages([[calls]])).toBe('ai calls get_weather, get_time');
    const results = [
      storedMessage('ToolMessage', { content: '18°C', tool_call_id: 'c1', name: 'get_weather' }),
      storedMessage('ToolMessage', { content: 'boom', tool_call_id: 'c2', name: 'get_time', status: 'error' }),
    ];
    expect(previewOfMessages([results])).toBe('tool get_weather · tool get_time (error)');
    expect(previewOfMessages([{ role: 'user', content: 'Line one\n\n  line two' }, storedMessage('RemoveMessage', { id: 't1', content: [] })])).toBe(
      'human: Line one line two · removes t1',
    );
    expect(previewOfMessages(['agent', null, { counter: 1 }, []])).toBeNull();
  });

  it('gives the timeline of a conversation a preview per step, from the writes of its parent', () => {
    const previews = conversationThread().checkpoints.map((detail) => detail.message_preview).reverse();
    expect(previews).toEqual([
      null,
      'system: You answer questions about the weather. · human: What is the weather in Paris, and what time is it there?',
      'ai calls get_weather, get_time',
      'tool get_weather · tool get_time (error)',
      'ai: It is 18°C and sunny in Paris. I could not get the local ti…',
      'ai: It is 18°C and sunny in Paris.',
      null,
      'human: And what is in this photo?',
      'removes tool-2',
      'ai: A single blue pixel.',
    ]);
  });

  it('finds words of messages as they read, quotes and line breaks included', () => {
    const said = storedMessage('AIMessage', { id: 'a', content: 'She said "bring an umbrella"\nand left.', tool_calls: [{ id: 'c', name: 'get_weather', args: { city: 'Zürich' } }] });
    expect(searchableMessageText([said])).toBe('She said "bring an umbrella" and left. get_weather {"city":"Zürich"}');
    const thread = new ThreadBuilder('fixtures', 'quotes');
    const first = thread.add({ parent: null, source: 'input', step: -1, values: { messages: [] } });
    thread.add({ parent: first, source: 'loop', step: 0, values: { messages: [said] } });
    for (const text of ['said "bring an umbrella"', 'umbrella" and left', 'get_weather', '"city":"zürich"']) {
      expect(searchDetails(thread.build().checkpoints, text).map((hit) => [hit.checkpoint.checkpoint_id, hit.where])).toEqual([['ckpt-000002', 'channel "messages"']]);
    }
  });
});
