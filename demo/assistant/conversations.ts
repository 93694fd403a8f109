import type { RunnableConfig } from '@langchain/core/runnables';
import { Command } from '@langchain/langgraph/web';
import type { WorkerSaver, WorkerStore } from '../../src/index.js';
import { MEMORY_NAMESPACE, type Assistant, type ChatMessage, type Todo } from './graph.js';

export interface ThreadEntry {
  thread_id: string;
  title: string;
  updated: string;
}

export interface ConversationView {
  messages: ChatMessage[];
  notes: string[];
  todos: Todo[];
  /** The question the assistant waits on, when it asked for approval. */
  waiting: string | undefined;
  /** The checkpoint this view shows: the head of its branch. */
  config: RunnableConfig;
}

export interface Branch {
  config: RunnableConfig;
  label: string;
  messages: number;
}

type Snapshot = Awaited<ReturnType<Assistant['getState']>>;

const threadConfig = (thread_id: string): RunnableConfig => ({ configurable: { thread_id } });
const checkpointOf = (config: RunnableConfig) => config.configurable?.['checkpoint_id'] as string | undefined;

function viewOf(snapshot: Snapshot): ConversationView {
  const values = snapshot.values as { messages?: ChatMessage[]; notes?: string[]; todos?: Todo[] };
  const question = snapshot.tasks.flatMap((task) => task.interrupts).map((entry) => (entry.value as { question?: string }).question)[0];
  return { messages: values.messages ?? [], notes: values.notes ?? [], todos: values.todos ?? [], waiting: question, config: snapshot.config };
}

/** The conversations kept by the saver: listing, reading, sending, approving, branching, deleting. */
export class Conversations {
  constructor(
    private readonly saver: WorkerSaver,
    private readonly store: WorkerStore,
    private readonly assistant: Assistant,
  ) {}

  /** Calls `listener` after every commit to the conversations: this tab's, another tab's, or one pulled by sync. */
  onChange(listener: () => void): () => void {
    return this.saver.subscribe(() => listener());
  }

  async list(): Promise<ThreadEntry[]> {
    const threads = new Map<string, ThreadEntry>();
    for await (const tuple of this.saver.list({ configurable: { checkpoint_ns: '' } })) {
      const thread_id = tuple.config.configurable?.['thread_id'] as string;
      if (threads.has(thread_id)) continue;
      const messages = (tuple.checkpoint.channel_values['messages'] as ChatMessage[] | undefined) ?? [];
      threads.set(thread_id, { thread_id, title: messages.find((message) => message.role === 'user')?.text ?? 'New conversation', updated: tuple.checkpoint.ts });
    }
    return [...threads.values()];
  }

  /** The newest state of a thread, or of the branch whose head is `head`. */
  async view(thread_id: string, head?: RunnableConfig): Promise<ConversationView> {
    return viewOf(await this.assistant.getState(head ?? threadConfig(thread_id)));
  }

  async send(thread_id: string, text: string, head?: RunnableConfig): Promise<ConversationView> {
    await this.assistant.invoke({ messages: [{ role: 'user', text }] }, head ?? threadConfig(thread_id));
    return this.view(thread_id);
  }

  async answer(thread_id: string, answer: 'approve' | 'reject', head?: RunnableConfig): Promise<ConversationView> {
    await this.assistant.invoke(new Command({ resume: answer }), head ?? threadConfig(thread_id));
    return this.view(thread_id);
  }

  /** The heads of the thread's branches, newest first: turns that ended or wait on an approval. */
  async branches(thread_id: string): Promise<Branch[]> {
    const snapshots: Snapshot[] = [];
    for await (const snapshot of this.assistant.getStateHistory(threadConfig(thread_id))) snapshots.push(snapshot);
    const parents = new Set(snapshots.map((snapshot) => snapshot.parentConfig && checkpointOf(snapshot.parentConfig)));
    return snapshots
      .filter((snapshot) => !parents.has(checkpointOf(snapshot.config)) && (snapshot.next.length === 0 || viewOf(snapshot).waiting))
      .map((snapshot) => {
        const { messages } = viewOf(snapshot);
        const last = messages.filter((message) => message.role === 'user').at(-1)?.text ?? '';
        return { config: snapshot.config, label: last.length > 40 ? `${last.slice(0, 40)}…` : last, messages: messages.length };
      });
  }

  /**
   * Where to branch to continue right after message `index` of the branch whose head is `head`: the checkpoint,
   * among the head's ancestors, where that message's turn was complete.
   */
  async branchPoint(thread_id: string, index: number, head: RunnableConfig): Promise<RunnableConfig> {
    const view = await this.view(thread_id, head);
    const turnEnd = view.messages[index]?.role === 'user' ? index + 2 : index + 1;
    let cursor: RunnableConfig | undefined = head;
    while (cursor) {
      const snapshot = await this.assistant.getState(cursor);
      const { messages } = viewOf(snapshot);
      if (messages.length === turnEnd && snapshot.next.length === 0) return snapshot.config;
      if (messages.length < turnEnd) break;
      cursor = snapshot.parentConfig;
    }
    throw new Error(`Message ${index + 1} has no finished turn to branch from.`);
  }

  /** What the assistant remembers about the user, in every conversation, oldest first. */
  async memories(): Promise<string[]> {
    const items = await this.store.search(MEMORY_NAMESPACE, { limit: 100 });
    return items.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()).map((item) => String(item.value['text']));
  }

  delete(thread_id: string): Promise<void> {
    return this.saver.deleteThread(thread_id);
  }
}
