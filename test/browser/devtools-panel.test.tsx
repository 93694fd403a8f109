import { act } from 'react';
import { createMemoryDataSource } from '../../src/devtools/memory-source.js';
import type { CheckpointDataSource, CheckpointKey, JsonValue } from '../../src/devtools/data-source.js';
import { DevtoolsPanel } from '../../src/panel/DevtoolsPanel.js';
import { click, usePanelContainer } from '../support/panel-container.js';
import { HOSTILE, PIXEL_PNG, ThreadBuilder, conversationThread, failingThread, forkedThread, hostileThread, storedMessage } from '../support/fixture-threads.js';

const panel = usePanelContainer(600);
const { $, $$, buttonNamed } = panel;
const rows = () => $$('.juncture-row').map((row) => row.dataset['checkpointId']);
const selectedRow = () => $('.juncture-row[aria-selected="true"]')?.dataset['checkpointId'];

async function render(source: CheckpointDataSource) {
  await panel.render(<DevtoolsPanel source={source} theme="light" />);
  await vi.waitFor(() => expect(rows().length).toBeGreaterThan(0));
}

describe('DevtoolsPanel', () => {
  it('draws a thread with two forks in lanes and highlights the selected checkpoint\'s ancestry', async () => {
    await render(createMemoryDataSource([forkedThread()]));
    expect(rows()).toEqual(['ckpt-000010', 'ckpt-000009', 'ckpt-000008', 'ckpt-000007', 'ckpt-000006', 'ckpt-000005', 'ckpt-000004', 'ckpt-000003', 'ckpt-000002', 'ckpt-000001']);
    expect(new Set($$('.juncture-row svg').map((svg) => svg.dataset['lane']))).toEqual(new Set(['0', '1', '2']));
    expect(selectedRow()).toBe('ckpt-000010');
    await click($('[data-checkpoint-id="ckpt-000009"]'));
    expect(selectedRow()).toBe('ckpt-000009');
    const ancestry = $$('.juncture-row.ancestry').map((row) => row.dataset['checkpointId']);
    expect(ancestry).toEqual(['ckpt-000009', 'ckpt-000008', 'ckpt-000003', 'ckpt-000002', 'ckpt-000001']);
    expect($('[data-checkpoint-id="ckpt-000009"]')!.textContent).toContain('research');
  });

  it('shows state, the diff against the parent, and metadata of the selected checkpoint', async () => {
    await render(createMemoryDataSource([forkedThread()]));
    await click($('[data-checkpoint-id="ckpt-000009"]'));
    await vi.waitFor(() => expect($('.juncture-detail')!.textContent).toContain('Checkpoint ckpt-000009'));
    expect($$('.juncture-channel strong').map((name) => name.textContent)).toEqual(['topic', 'notes', 'summary']);
    await click(buttonNamed('Diff'));
    await vi.waitFor(() => expect($('.juncture-diff')?.textContent).toContain('+ /notes/2 = "edited note"'));
    await click(buttonNamed('Metadata'));
    await vi.waitFor(() => expect($('.juncture-detail')!.textContent).toContain('source:"loop"'));
  });

  it('picks namespaces, root first, and shows a subgraph\'s checkpoints', async () => {
    await render(createMemoryDataSource([forkedThread()]));
    const picker = $<HTMLSelectElement>('select[aria-label="Namespace"]')!;
    expect([...picker.options].map((option) => option.textContent)).toEqual(['(root)', 'summarize:7f3a']);
    await act(async () => {
      picker.value = 'summarize:7f3a';
      picker.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await vi.waitFor(() => expect(rows()).toEqual(['ckpt-000013', 'ckpt-000012', 'ckpt-000011']));
  });

  it('groups pending writes by task and marks errors and interrupts', async () => {
    await render(createMemoryDataSource([failingThread()]));
    await vi.waitFor(() => expect(buttonNamed('Writes (3)')).toBeDefined());
    await click(buttonNamed('Writes (3)'));
    expect($('.juncture-task.error')!.textContent).toContain('network unreachable');
    expect($('.juncture-task.interrupt')!.textContent).toContain('Approve publishing?');
    expect($$('.juncture-task')).toHaveLength(3);
  });

  it('moves through the timeline with the arrow keys', async () => {
    await render(createMemoryDataSource([forkedThread()]));
    const timeline = $('[aria-label="Timeline"]')!;
    await act(async () => timeline.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true })));
    expect(selectedRow()).toBe('ckpt-000009');
    await act(async () => timeline.dispatchEvent(new KeyboardEvent('keydown', { key: 'End', bubbles: true })));
    expect(selectedRow()).toBe('ckpt-000001');
    await act(async () => timeline.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowUp', bubbles: true })));
    expect(selectedRow()).toBe('ckpt-000002');
  });

  it('searches values and jumps between hits', async () => {
    await render(createMemoryDataSource([forkedThread()]));
    const input = $<HTMLInputElement>('input[aria-label="Search values"]')!;
    await act(async () => {
      const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
      setValue.call(input, 'summary');
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await click(buttonNamed('Search'));
    // "summary" is a channel name everywhere it was introduced; values "draft summary" and "forked summary".
    await vi.waitFor(() => expect($('[aria-live="polite"]')?.textContent).toMatch(/^1 of \d+/));
    const first = selectedRow();
    expect($$('.juncture-row.hit').length).toBeGreaterThan(1);
    await click(buttonNamed('Next'));
    expect(selectedRow()).not.toBe(first);
  });

  it('follows the head as checkpoints arrive, until the user picks another', async () => {
    const builder = new ThreadBuilder('fixtures', 'live');
    let head = builder.add({ parent: null, source: 'input', step: -1, values: { n: 0 } });
    const source = createMemoryDataSource([builder.build()]);
    await render(source);
    for (let step = 0; step < 2; step += 1) {
      head = builder.add({ parent: head, source: 'loop', step, values: { n: step + 1 } });
      await act(async () => source.replace([builder.build()]));
      await vi.waitFor(() => expect(selectedRow()).toBe(head));
    }
    await click($('[data-checkpoint-id="ckpt-000001"]'));
    builder.add({ parent: head, source: 'loop', step: 2, values: { n: 3 } });
    await act(async () => source.replace([builder.build()]));
    await vi.waitFor(() => expect(rows()).toHaveLength(4));
    expect(selectedRow()).toBe('ckpt-000001');
  });

  it('exports a thread and imports it back to view', async () => {
    const source = createMemoryDataSource([forkedThread()]);
    await render(source);
    const exported = await source.exportThread('fixtures', 'research-thread');
    const renamed = { ...exported, dbName: 'from-a-file' };
    const input = $<HTMLInputElement>('input[aria-label="Import a thread"]')!;
    const files = new DataTransfer();
    files.items.add(new File([JSON.stringify(renamed)], 'thread.json', { type: 'application/json' }));
    await act(async () => {
      input.files = files.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await vi.waitFor(() => expect(buttonNamed('Back to the live page')).toBeDefined());
    // The imported thread's database and rows load as the live ones do, a moment after the file is read.
    await vi.waitFor(() => expect($('[aria-label="Databases"]')!.textContent).toContain('from-a-file'));
    await vi.waitFor(() => expect(rows()).toHaveLength(10));
    const broken = new DataTransfer();
    broken.items.add(new File(['{"format":"other"}'], 'bad.json'));
    await act(async () => {
      input.files = broken.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await vi.waitFor(() => expect($('[role="alert"]')?.textContent).toContain('not a juncture thread export'));
  });

  it('offers time travel only where the page gave its graph, and forks with edited values', async () => {
    const memory = createMemoryDataSource([forkedThread()]);
    await render(memory);
    expect(buttonNamed('Fork from here')).toBeUndefined();
    panel.remount();

    const forks: [CheckpointKey, Record<string, JsonValue>][] = [];
    const withGraph: CheckpointDataSource = {
      ...memory,
      databases: async () => [{ name: 'fixtures', live: true, timeTravel: true }],
      fork: async (_dbName, key, values) => {
        forks.push([key, values]);
        return { ...key, checkpoint_id: 'ckpt-000002' };
      },
    };
    await render(withGraph);
    await vi.waitFor(() => expect(buttonNamed('Fork from here')).toBeDefined());
    await click(buttonNamed('Fork from here'));
    const editor = $<HTMLTextAreaElement>('textarea[aria-label="Values of the fork"]')!;
    await act(async () => {
      const setValue = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!;
      setValue.call(editor, '{"topic":"rewritten"}');
      editor.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await click(buttonNamed('Create fork'));
    await vi.waitFor(() => expect(forks).toEqual([[{ thread_id: 'research-thread', checkpoint_ns: '', checkpoint_id: 'ckpt-000010' }, { topic: 'rewritten' }]]));
    await vi.waitFor(() => expect(selectedRow()).toBe('ckpt-000002'));
  });

  it('follows the theme it is given: dark colours for a dark DevTools', async () => {
    await panel.render(<DevtoolsPanel source={createMemoryDataSource([forkedThread()])} theme="dark" />);
    await vi.waitFor(() => expect(rows().length).toBeGreaterThan(0));
    const panelElement = $('.juncture-panel')!;
    expect(panelElement.dataset['theme']).toBe('dark');
    expect(getComputedStyle(panelElement).backgroundColor).toBe('rgb(30, 30, 30)');
    await panel.render(<DevtoolsPanel source={createMemoryDataSource([forkedThread()])} theme="light" />);
    expect(getComputedStyle($('.juncture-panel')!).backgroundColor).toBe('rgb(255, 255, 255)');
  });

  it('renders HTML and script payloads from the page as text, running nothing', async () => {
    await render(createMemoryDataSource([hostileThread()]));
    await vi.waitFor(() => expect($('.juncture-detail')!.textContent).toContain(HOSTILE));
    const messageTexts = () => $$('.juncture-message .text').map((text) => text.textContent);
    expect(messageTexts()).toEqual([HOSTILE, HOSTILE, HOSTILE, HOSTILE]);
    expect($$('.juncture-tool-call .tool-name').map((name) => name.textContent)).toEqual([`tool ${HOSTILE}`]);
    expect($('.juncture-message .part')!.textContent).toContain('onerror="window.__pwned=3');
    await click(buttonNamed('Writes (2)'));
    expect(messageTexts()).toEqual([HOSTILE, HOSTILE, HOSTILE]);
    for (const tab of ['Diff', 'Metadata', 'State']) await click(buttonNamed(tab));
    expect(panel.element.textContent).toContain(`thread ${HOSTILE}`);
    await click(buttonNamed('Raw JSON'));
    expect(panel.element.querySelectorAll('img, script, iframe')).toHaveLength(0);
    await new Promise((done) => setTimeout(done, 50));
    expect((window as { __pwned?: number }).__pwned).toBeUndefined();
  });
});

describe('DevtoolsPanel on a conversation', () => {
  const within = (element: Element, selector: string) => [...element.querySelectorAll<HTMLElement>(selector)];
  const texts = (elements: Element[]) => elements.map((element) => element.textContent);
  /** The cards at the top of a transcript (tool results answering a call sit inside their call). */
  const cards = (section: string) => $$(`[aria-label="${section}"] .juncture-transcript > li > .juncture-message`);
  const open = async (id: string, tab = 'State') => {
    await click($(`[data-checkpoint-id="${id}"]`));
    await vi.waitFor(() => expect($('.juncture-detail')!.textContent).toContain(`Checkpoint ${id}`));
    await click(buttonNamed(new RegExp(`^${tab}`)));
  };

  it('shows the messages channel as a transcript: roles, text, images, tool calls with their results, usage and ids', async () => {
    await render(createMemoryDataSource([conversationThread()]));
    await open('chat-000008');
    expect(texts(cards('messages').map((card) => card.querySelector('.role')!))).toEqual(['system', 'human', 'ai', 'ai', 'human']);
    const [, question, calls, reply, photo] = cards('messages');
    expect(question!.querySelector('.text')!.textContent).toBe('What is the weather in Paris, and what time is it there?');
    expect(calls!.querySelector('.usage')!.textContent).toBe('52 in · 31 out · 83 tokens');
    expect(calls!.querySelector('header .id')!.textContent).toBe('ai-1');
    const toolCalls = within(calls!, '.juncture-tool-call');
    expect(texts(toolCalls.map((call) => call.querySelector('.tool-name')!))).toEqual(['get_weather', 'get_time']);
    expect(toolCalls[1]!.querySelector('.juncture-json')!.textContent).toContain('Europe/Paris');
    // Each result sits under the call it answers, not in the list of its own.
    const [weather, clock] = toolCalls.map((call) => call.querySelector('.juncture-message.role-tool')!);
    expect(weather!.querySelector('.text')!.textContent).toBe('It is 18°C and sunny in Paris.');
    expect(clock!.classList.contains('error')).toBe(true);
    expect(clock!.querySelector('.status')!.textContent).toBe('error');
    expect(clock!.querySelector('.text')!.textContent).toBe('Error: the clock service is unreachable.');
    expect(reply!.querySelector('.text')!.textContent).toBe('It is 18°C and sunny in Paris.');
    expect(photo!.querySelector('.text')!.textContent).toBe('And what is in this photo?');
    expect(photo!.querySelector('img')!.getAttribute('src')).toBe(PIXEL_PNG);

    // One message as stored, then the whole channel as stored.
    await click(within(reply!, 'header button').find((button) => button.textContent === 'JSON'));
    expect(reply!.querySelector('.juncture-json')!.textContent).toContain('AIMessage');
    await click(buttonNamed('Raw JSON'));
    expect(cards('messages')).toHaveLength(0);
    expect($('[aria-label="messages"] .juncture-json')!.textContent).toContain('constructor');
    await click(buttonNamed('Raw JSON'));
    expect(cards('messages')).toHaveLength(5);
  });

  it('shows a graph\'s input, which holds messages in a field, as messages too', async () => {
    await render(createMemoryDataSource([conversationThread()]));
    await open('chat-000001');
    const input = $('[aria-label="__start__"]')!;
    expect(texts(within(input, '.juncture-message .role'))).toEqual(['system', 'human']);
    expect(within(input, '.juncture-field > .kind')[0]!.textContent).toBe('messages');
  });

  it('diffs a step message by message: added, replaced with the same id, removed', async () => {
    await render(createMemoryDataSource([conversationThread()]));
    await open('chat-000004', 'Diff');
    const changes = () => $$('[aria-label="messages changes"] .juncture-transcript > li > .juncture-message');
    expect($('[aria-label="messages changes"] .size')!.textContent).toBe('2 added');
    expect(changes().map((card) => [card.querySelector('.change')!.textContent, card.querySelector('.answers')!.textContent])).toEqual([
      ['added', 'answers call_weather'],
      ['added', 'answers call_time'],
    ]);
    expect($('.juncture-diff')).toBeNull();

    await open('chat-000006', 'Diff');
    const [replaced] = changes();
    expect(replaced!.querySelector('.change')!.textContent).toBe('replaced');
    expect(replaced!.querySelector('.text')!.textContent).toBe('It is 18°C and sunny in Paris.');
    expect(replaced!.querySelector('.before .text')!.textContent).toBe('It is 18°C and sunny in Paris. I could not get the local time.');

    await open('chat-000009', 'Diff');
    expect(changes().map((card) => [card.querySelector('.change')!.textContent, card.querySelector('.text')!.textContent])).toEqual([
      ['removed', 'Error: the clock service is unreachable.'],
    ]);
    // The input's other channel still diffs as JSON.
    await open('chat-000008', 'Diff');
    expect(changes().map((card) => card.querySelector('.change')!.textContent)).toEqual(['added']);
    expect($('.juncture-diff')!.textContent).toContain('- /__start__');
  });

  it('shows message writes as messages, naming the calls tool results answer', async () => {
    await render(createMemoryDataSource([conversationThread()]));
    await open('chat-000003', 'Writes');
    const task = $('.juncture-task')!;
    expect(texts(within(task, '.juncture-message .answers'))).toEqual(['answers call_weather', 'answers call_time']);
    expect(within(task, '.juncture-message.error')).toHaveLength(1);

    // A result without the tool's name is named by the call it answers.
    panel.remount();
    const thread = new ThreadBuilder('fixtures', 'unnamed-tool', 'bare');
    const calls = storedMessage('AIMessage', { id: 'a', content: '', tool_calls: [{ id: 'c9', name: 'lookup', args: { id: 42 } }] });
    const result = storedMessage('ToolMessage', { id: 't', content: 'found', tool_call_id: 'c9' });
    thread.add({ parent: null, source: 'loop', step: 0, values: { messages: [calls] }, writes: [{ task_id: 'tools', task_path: 'tools', idx: 0, channel: 'messages', value: [result] }] });
    await render(createMemoryDataSource([thread.build()]));
    await open('bare-000001', 'Writes');
    expect($('.juncture-task .juncture-message .answers')!.textContent).toBe('answers lookup c9');
  });

  it('previews on each timeline row what its step added, and finds message text', async () => {
    await render(createMemoryDataSource([conversationThread()]));
    const preview = (id: string) => $(`[data-checkpoint-id="${id}"] .preview`)?.textContent;
    expect(preview('chat-000003')).toBe('ai calls get_weather, get_time');
    expect(preview('chat-000004')).toBe('tool get_weather · tool get_time (error)');
    expect(preview('chat-000010')).toBe('ai: A single blue pixel.');
    expect(preview('chat-000001')).toBeUndefined();

    const input = $<HTMLInputElement>('input[aria-label="Search values"]')!;
    await act(async () => {
      const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
      setValue.call(input, 'a single BLUE pixel');
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await click(buttonNamed('Search'));
    // The agent's write on the step before, and the channel where the reply arrived.
    await vi.waitFor(() => expect($('[aria-live="polite"]')?.textContent).toMatch(/^1 of 2/));
    expect($$('.juncture-row.hit').map((row) => row.dataset['checkpointId'])).toEqual(['chat-000010', 'chat-000009']);
  });

  it('reads an exported conversation the same way, previews included when the file has none', async () => {
    await render(createMemoryDataSource([forkedThread()]));
    const exported = conversationThread('from-a-file');
    const withoutPreviews = { ...exported, checkpoints: exported.checkpoints.map(({ message_preview: _dropped, ...detail }) => detail) };
    const input = $<HTMLInputElement>('input[aria-label="Import a thread"]')!;
    const files = new DataTransfer();
    files.items.add(new File([JSON.stringify(withoutPreviews)], 'chat.json', { type: 'application/json' }));
    await act(async () => {
      input.files = files.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await vi.waitFor(() => expect(rows()).toContain('chat-000003'));
    expect($('[data-checkpoint-id="chat-000003"] .preview')!.textContent).toBe('ai calls get_weather, get_time');
    await vi.waitFor(() => expect(cards('messages').length).toBe(6));
  });
});
