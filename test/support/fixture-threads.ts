import type { CheckpointDetail, GraphDescription, JsonValue, PendingWriteView, ThreadExport } from '../../src/devtools/data-source.js';
import { messagePreviewOf, pendingTasksOfDetail } from '../../src/devtools/thread-model.js';

/** Builds a thread export checkpoint by checkpoint, with ids and times in creation order. */
export class ThreadBuilder {
  readonly #checkpoints: CheckpointDetail[] = [];
  #clock = 0;
  /** Milliseconds since the first checkpoint's time, 2026-01-01 12:00:00 UTC. */
  #elapsed = 0;

  constructor(
    readonly dbName: string,
    readonly thread_id: string,
    private readonly idPrefix = 'ckpt',
  ) {}

  add(options: {
    parent: string | null;
    source: 'input' | 'loop' | 'update' | 'fork';
    step: number;
    values: Record<string, JsonValue>;
    nodes?: string[];
    ns?: string;
    writes?: PendingWriteView[];
    metadata?: Record<string, JsonValue>;
    /** How long the step took: its time after the checkpoint before it in creation order (one second by default). */
    tookMs?: number;
  }): string {
    this.#clock += 1;
    this.#elapsed += options.tookMs ?? 1000;
    const checkpoint_ns = options.ns ?? '';
    const checkpoint_id = `${this.idPrefix}-${String(this.#clock).padStart(6, '0')}`;
    const parent = this.#checkpoints.find((entry) => entry.checkpoint_id === options.parent && entry.checkpoint_ns === checkpoint_ns);
    const channel_versions: Record<string, number> = {};
    for (const [channel, value] of Object.entries(options.values)) {
      const previous = parent?.channel_versions[channel] as number | undefined;
      const same = parent !== undefined && JSON.stringify(parent.channel_values[channel]) === JSON.stringify(value);
      channel_versions[channel] = same && previous !== undefined ? previous : this.#clock;
    }
    const nodes = options.nodes ?? [];
    const detail = {
      thread_id: this.thread_id,
      checkpoint_ns,
      checkpoint_id,
      parent_checkpoint_id: options.parent,
      step: options.step,
      source: options.source,
      ts: new Date(Date.UTC(2026, 0, 1, 12, 0, 0) + this.#elapsed).toISOString(),
      nodes,
      message_preview: messagePreviewOf(parent?.pending_writes),
      channel_values: options.values,
      channel_versions,
      versions_seen: Object.fromEntries(nodes.map((node) => [node, { step: options.step }])),
      metadata: { source: options.source, step: options.step, parents: {}, ...options.metadata },
      pending_writes: options.writes ?? [],
    };
    this.#checkpoints.unshift({ ...detail, ...pendingTasksOfDetail(detail) });
    return checkpoint_id;
  }

  build(): ThreadExport {
    const checkpoints = [...this.#checkpoints].sort((a, b) => (a.checkpoint_id < b.checkpoint_id ? 1 : -1));
    return { format: 'juncture-thread', version: 1, dbName: this.dbName, thread_id: this.thread_id, exported_at: '2026-01-02T00:00:00.000Z', checkpoints };
  }
}

/** A main line of six steps, two forks (an `updateState` and a fork), and a subgraph's checkpoints. */
export function forkedThread(dbName = 'fixtures'): ThreadExport {
  const thread = new ThreadBuilder(dbName, 'research-thread');
  let head = thread.add({ parent: null, source: 'input', step: -1, values: { topic: 'storage' }, nodes: ['__start__'] });
  const main: string[] = [head];
  for (let step = 0; step < 6; step += 1) {
    head = thread.add({
      parent: head,
      source: 'loop',
      step,
      values: { topic: 'storage', notes: Array.from({ length: step + 1 }, (_, i) => `note ${i}`), summary: step >= 4 ? 'draft summary' : '' },
      nodes: [step % 2 === 0 ? 'research' : 'plan'],
    });
    main.push(head);
  }
  const edited = thread.add({ parent: main[2]!, source: 'update', step: 2, values: { topic: 'edited topic', notes: ['note 0', 'note 1'], summary: '' }, nodes: ['plan'] });
  thread.add({ parent: edited, source: 'loop', step: 3, values: { topic: 'edited topic', notes: ['note 0', 'note 1', 'edited note'], summary: '' }, nodes: ['research'] });
  thread.add({ parent: main[4]!, source: 'fork', step: 4, values: { topic: 'storage', notes: ['note 0'], summary: 'forked summary' } });
  let sub = thread.add({ ns: 'summarize:7f3a', parent: null, source: 'input', step: -1, values: { notes: ['note 0', 'note 1'] } });
  sub = thread.add({ ns: 'summarize:7f3a', parent: sub, source: 'loop', step: 0, values: { notes: ['note 0', 'note 1'], summary: '2 notes' }, nodes: ['count'] });
  thread.add({ ns: 'summarize:7f3a', parent: sub, source: 'loop', step: 1, values: { notes: ['note 0', 'note 1'], summary: '2 notes: note 0, note 1' }, nodes: ['polish'] });
  return thread.build();
}

/** A thread whose last step failed in one task and waits on an interrupt in another. */
export function failingThread(dbName = 'fixtures'): ThreadExport {
  const thread = new ThreadBuilder(dbName, 'failing-thread', 'fail');
  const input = thread.add({ parent: null, source: 'input', step: -1, values: { question: 'publish?' }, nodes: ['__start__'] });
  thread.add({
    parent: input,
    source: 'loop',
    step: 0,
    values: { question: 'publish?' },
    nodes: ['ask'],
    writes: [
      { task_id: 'task-ask', task_path: '~__pregel_pull, ask', idx: -3, channel: '__interrupt__', value: [{ value: { question: 'Approve publishing?' }, id: 'int-1' }] },
      { task_id: 'task-fetch', task_path: '~__pregel_pull, fetch', idx: -1, channel: '__error__', value: { message: 'network unreachable', name: 'TypeError' } },
      { task_id: 'task-note', task_path: '~__pregel_pull, note', idx: 0, channel: 'notes', value: ['kept note'] },
    ],
  });
  return thread.build();
}

/** A long straight thread, for speed. */
export function longThread(checkpoints: number, dbName = 'fixtures'): ThreadExport {
  const thread = new ThreadBuilder(dbName, `long-${checkpoints}`, 'long');
  let head: string | null = null;
  for (let step = 0; step < checkpoints; step += 1) {
    head = thread.add({ parent: head, source: step === 0 ? 'input' : 'loop', step: step - 1, values: { counter: step }, nodes: step === 0 ? [] : ['count'] });
  }
  return thread.build();
}

/** HTML and script payloads in every place a page controls: values, metadata, ids, channel names, writes. */
export const HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';

export function hostileThread(dbName = 'fixtures'): ThreadExport {
  const thread = new ThreadBuilder(dbName, `thread ${HOSTILE}`, 'evil');
  const first = thread.add({ parent: null, source: 'input', step: -1, values: { [`channel ${HOSTILE}`]: HOSTILE }, metadata: { note: HOSTILE }, nodes: [`node ${HOSTILE}`] });
  thread.add({
    parent: first,
    source: 'loop',
    step: 0,
    values: { [`channel ${HOSTILE}`]: { html: HOSTILE, list: [HOSTILE] }, messages: hostileMessages() },
    writes: [
      { task_id: `task ${HOSTILE}`, task_path: HOSTILE, idx: 0, channel: HOSTILE, value: HOSTILE },
      { task_id: `task ${HOSTILE}`, task_path: HOSTILE, idx: 1, channel: 'messages', value: hostileMessages().slice(1) },
    ],
  });
  return thread.build();
}

/** A message as the savers store it: LangChain's serialized form. */
export function storedMessage(className: string, kwargs: Record<string, JsonValue>): JsonValue {
  return { lc: 1, type: 'constructor', id: ['langchain_core', 'messages', className], kwargs: { additional_kwargs: {}, response_metadata: {}, ...kwargs } };
}

/** A one-pixel PNG, for an image part. */
export const PIXEL_PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mPgzLwFAAHLAU0rzWsVAAAAAElFTkSuQmCC';

const write = (task: string, node: string, value: JsonValue, channel = 'messages'): PendingWriteView => ({ task_id: task, task_path: `~__pregel_pull, ${node}`, idx: 0, channel, value });

/**
 * A tool-calling chat as LangGraph stores it on `MessagesAnnotation`: a question, an AI message calling two tools,
 * a result and an error, the reply, an edit of the reply (same id, by `updateState`), then a second turn with a
 * picture that first removes the failed result. Each checkpoint's writes are what its tasks added.
 */
export function conversationThread(dbName = 'fixtures'): ThreadExport {
  const thread = new ThreadBuilder(dbName, 'weather-chat', 'chat');
  const system = storedMessage('SystemMessage', { id: 'sys-1', content: 'You answer questions about the weather.' });
  const question = storedMessage('HumanMessage', { id: 'human-1', content: 'What is the weather in Paris, and what time is it there?' });
  const calls = storedMessage('AIMessage', {
    id: 'ai-1',
    content: '',
    tool_calls: [
      { id: 'call_weather', name: 'get_weather', args: { city: 'Paris', unit: 'celsius' }, type: 'tool_call' },
      { id: 'call_time', name: 'get_time', args: { timezone: 'Europe/Paris' }, type: 'tool_call' },
    ],
    invalid_tool_calls: [],
    usage_metadata: { input_tokens: 52, output_tokens: 31, total_tokens: 83 },
  });
  const weather = storedMessage('ToolMessage', { id: 'tool-1', content: 'It is 18°C and sunny in Paris.', tool_call_id: 'call_weather', name: 'get_weather', status: 'success' });
  const clockError = storedMessage('ToolMessage', { id: 'tool-2', content: 'Error: the clock service is unreachable.', tool_call_id: 'call_time', name: 'get_time', status: 'error' });
  const reply = storedMessage('AIMessage', {
    id: 'ai-2',
    content: 'It is 18°C and sunny in Paris. I could not get the local time.',
    tool_calls: [],
    invalid_tool_calls: [],
    usage_metadata: { input_tokens: 120, output_tokens: 17, total_tokens: 137 },
  });
  const editedReply = storedMessage('AIMessage', { id: 'ai-2', content: 'It is 18°C and sunny in Paris.', tool_calls: [], invalid_tool_calls: [] });
  const photo = storedMessage('HumanMessage', {
    id: 'human-2',
    content: [
      { type: 'text', text: 'And what is in this photo?' },
      { type: 'image_url', image_url: { url: PIXEL_PNG } },
    ],
  });
  const removal = storedMessage('RemoveMessage', { id: 'tool-2', content: [] });
  const answer = storedMessage('AIMessage', { id: 'ai-3', content: 'A single blue pixel.', tool_calls: [], invalid_tool_calls: [], usage_metadata: { input_tokens: 160, output_tokens: 6, total_tokens: 166 } });
  const firstTurn = [system, question];

  let head = thread.add({
    parent: null,
    source: 'input',
    step: -1,
    values: { __start__: { messages: [{ role: 'system', content: 'You answer questions about the weather.' }, { role: 'user', content: 'What is the weather in Paris, and what time is it there?' }] } },
    writes: [write('t-start', '__start__', firstTurn)],
  });
  head = thread.add({ parent: head, source: 'loop', step: 0, values: { messages: firstTurn }, nodes: ['__start__'], writes: [write('t-agent-1', 'agent', [calls])] });
  head = thread.add({ parent: head, source: 'loop', step: 1, values: { messages: [...firstTurn, calls] }, nodes: ['agent'], writes: [write('t-tools', 'tools', [weather, clockError])] });
  head = thread.add({ parent: head, source: 'loop', step: 2, values: { messages: [...firstTurn, calls, weather, clockError] }, nodes: ['tools'], writes: [write('t-agent-2', 'agent', [reply])] });
  head = thread.add({
    parent: head,
    source: 'loop',
    step: 3,
    values: { messages: [...firstTurn, calls, weather, clockError, reply] },
    nodes: ['agent'],
    writes: [write('t-update', 'agent', [editedReply])],
  });
  const edited = [...firstTurn, calls, weather, clockError, editedReply];
  head = thread.add({ parent: head, source: 'update', step: 4, values: { messages: edited }, nodes: ['agent'] });
  head = thread.add({ parent: head, source: 'input', step: 5, values: { messages: edited, __start__: { messages: [photo] } }, writes: [write('t-start-2', '__start__', [photo])] });
  head = thread.add({ parent: head, source: 'loop', step: 6, values: { messages: [...edited, photo] }, nodes: ['__start__'], writes: [write('t-tidy', 'tidy', [removal])] });
  const tidied = [...firstTurn, calls, weather, editedReply, photo];
  head = thread.add({ parent: head, source: 'loop', step: 7, values: { messages: tidied }, nodes: ['tidy'], writes: [write('t-agent-3', 'agent', [answer])] });
  thread.add({ parent: head, source: 'loop', step: 8, values: { messages: [...tidied, answer] }, nodes: ['agent'] });
  return thread.build();
}

/** Messages whose text, names, ids, arguments and parts are HTML and script. */
export function hostileMessages(): JsonValue[] {
  return [
    storedMessage('HumanMessage', { id: `human ${HOSTILE}`, content: [{ type: 'text', text: HOSTILE }, { type: 'image_url', image_url: { url: `https://example.invalid/x.png" onerror="window.__pwned=3` } }] }),
    storedMessage('AIMessage', { id: 'ai-evil', content: HOSTILE, tool_calls: [{ id: `call ${HOSTILE}`, name: `tool ${HOSTILE}`, args: { html: HOSTILE } }], usage_metadata: { input_tokens: 1, output_tokens: 1, total_tokens: 2 } }),
    storedMessage('ToolMessage', { id: 'tool-evil', content: HOSTILE, tool_call_id: `call ${HOSTILE}`, name: `tool ${HOSTILE}`, status: 'error' }),
    { role: 'assistant', content: HOSTILE, name: HOSTILE },
  ];
}

/**
 * What `getGraphAsync({ xray: true })` says of a research agent: `plan` fans out to `research` or ends (both
 * conditional), `summarize` is a subgraph of `count` and `polish`, then `review`. `name` may replace a node's
 * name and an edge's label, to carry payloads.
 */
export function researchGraph(name = (plain: string) => plain): GraphDescription {
  const node = (id: string) => ({ id, name: name(id.split(':').at(-1)!) });
  const ids = ['__start__', 'plan', 'research', 'summarize:count', 'summarize:polish', 'review', '__end__'];
  const edge = (source: string, target: string, conditional = false, label: string | null = null) => ({ source, target, conditional, label });
  return {
    nodes: ids.map(node),
    edges: [
      edge('__start__', 'plan'),
      edge('plan', 'research', true),
      edge('plan', '__end__', true, name('done')),
      edge('research', 'summarize:count'),
      edge('summarize:count', 'summarize:polish'),
      edge('summarize:polish', 'review'),
      edge('review', '__end__'),
    ],
  };
}

/**
 * A run of that agent with known step times (plan 1.5 s and 0.5 s, research 4 s and 2 s, summarize 2.5 s), which
 * ends waiting on `review`'s interrupt. Each checkpoint holds the `branch:to:` channel of the node it waits for.
 */
export function timedThread(dbName = 'fixtures'): ThreadExport {
  const thread = new ThreadBuilder(dbName, 'timed-thread', 'timed');
  const waitFor = (node: string) => ({ [`branch:to:${node}`]: null });
  let head = thread.add({ parent: null, source: 'input', step: -1, values: { topic: 'storage', ...waitFor('plan') }, nodes: ['__start__'] });
  const steps: [string, number, string][] = [
    ['plan', 1500, 'research'],
    ['research', 4000, 'plan'],
    ['plan', 500, 'research'],
    ['research', 2000, 'summarize'],
  ];
  steps.forEach(([node, tookMs, next], step) => {
    head = thread.add({ parent: head, source: 'loop', step, values: { topic: 'storage', notes: [`${node} ${step}`], ...waitFor(next) }, nodes: [node], tookMs });
  });
  thread.add({
    parent: head,
    source: 'loop',
    step: 4,
    values: { topic: 'storage', summary: 'two rounds', ...waitFor('review') },
    nodes: ['summarize'],
    tookMs: 2500,
    writes: [{ task_id: 'task-review', task_path: '~__pregel_pull, review', idx: -3, channel: '__interrupt__', value: [{ value: { question: 'Publish?' }, id: 'int-1' }] }],
  });
  return thread.build();
}
