import { Annotation, END, START, StateGraph, interrupt, type BaseCheckpointSaver, type BaseStore, type LangGraphRunnableConfig } from '@langchain/langgraph/web';
import { HELP, understand, type Intent } from './model.js';

export interface ChatMessage {
  role: 'user' | 'assistant';
  text: string;
}

export interface Todo {
  text: string;
  done: boolean;
}

const append = <T>(current: T[], update: T[]) => [...current, ...update];

const AssistantState = Annotation.Root({
  messages: Annotation<ChatMessage[]>({ reducer: append, default: () => [] }),
  notes: Annotation<string[]>({ reducer: (_, next) => next, default: () => [] }),
  todos: Annotation<Todo[]>({ reducer: (_, next) => next, default: () => [] }),
  intent: Annotation<Intent | null>({ reducer: (_, next) => next, default: () => null }),
  summary: Annotation<string>({ reducer: (_, next) => next, default: () => '' }),
});
type State = typeof AssistantState.State;

/** The node each intent goes to, besides the tools. */
const ROUTES: Partial<Record<Intent['kind'], 'approve' | 'memory' | 'summarize'>> = {
  clear: 'approve',
  remember: 'memory',
  recall: 'memory',
  summarize: 'summarize',
};

const reply = (text: string) => ({ messages: [{ role: 'assistant' as const, text }] });

function listing(state: Pick<State, 'notes' | 'todos'>): string {
  const notes = state.notes.length ? state.notes.map((note) => `• ${note}`).join('\n') : '(no notes)';
  const todos = state.todos.length ? state.todos.map((todo, i) => `${i + 1}. [${todo.done ? 'x' : ' '}] ${todo.text}`).join('\n') : '(nothing to do)';
  return `Notes:\n${notes}\nTo-do:\n${todos}`;
}

/** Where the assistant keeps what it learned about the user: one namespace, shared by every conversation. */
export const MEMORY_NAMESPACE = ['user', 'memories'];

/** A fact as the user said it, told back to them: "I like tea" → "you like tea". */
function toldBack(fact: string): string {
  return fact.replace(/\b(I|me|my|mine|am)\b/gi, (word) => ({ i: 'you', me: 'you', my: 'your', mine: 'yours', am: 'are' })[word.toLowerCase()]!);
}

/** Stores a fact in long-term memory, or answers from it, through `config.store`. */
async function memory(state: State, config: LangGraphRunnableConfig) {
  const intent = state.intent as Extract<Intent, { kind: 'remember' | 'recall' }>;
  const store = config.store!;
  if (intent.kind === 'remember') {
    // Keyed by the fact, so saying it twice keeps one memory.
    await store.put(MEMORY_NAMESPACE, intent.fact.toLowerCase(), { text: intent.fact });
    return reply(`I will remember that ${toldBack(intent.fact)}, in every conversation.`);
  }
  // No embeddings in an offline demo: the store's query matches text (every word of it).
  const found = await store.search(MEMORY_NAMESPACE, { ...(intent.about ? { query: intent.about } : {}), limit: 20 });
  if (found.length === 0) return reply(intent.about ? `You have not told me what you ${intent.about} yet.` : 'You have not told me anything about yourself yet.');
  return reply(`You told me that ${found.map((item) => toldBack(String(item.value['text']))).join(', and that ')}.`);
}

/** A subgraph: counts and phrases the summary, so its checkpoints live under their own namespace. */
const SummaryState = Annotation.Root({
  notes: Annotation<string[]>({ reducer: (_, next) => next, default: () => [] }),
  todos: Annotation<Todo[]>({ reducer: (_, next) => next, default: () => [] }),
  summary: Annotation<string>({ reducer: (_, next) => next, default: () => '' }),
});

function buildSummarizer() {
  return new StateGraph(SummaryState)
    .addNode('count', (state) => {
      const open = state.todos.filter((todo) => !todo.done).length;
      return { summary: `${state.notes.length} note${state.notes.length === 1 ? '' : 's'}, ${open} open task${open === 1 ? '' : 's'}` };
    })
    .addNode('phrase', (state) => ({
      summary: `${state.summary}.${state.todos.some((todo) => !todo.done) ? ` Next up: ${state.todos.find((todo) => !todo.done)!.text}.` : ' All done!'}`,
    }))
    .addEdge(START, 'count')
    .addEdge('count', 'phrase')
    .addEdge('phrase', END)
    .compile();
}

/**
 * The demo assistant: understands the last message, runs a tool on its notes and to-do list, asks for approval
 * (with `interrupt()`) before clearing anything, summarizes through a subgraph, and remembers facts about the user
 * across conversations in `store`.
 */
export function buildAssistant(checkpointer: BaseCheckpointSaver, store: BaseStore) {
  return new StateGraph(AssistantState)
    .addNode('understand', (state) => ({ intent: understand(state.messages.at(-1)?.text ?? '') }))
    .addNode('tools', (state) => {
      const intent = state.intent!;
      switch (intent.kind) {
        case 'add-note':
          return { notes: [...state.notes, intent.text], ...reply(`Noted: "${intent.text}".`) };
        case 'add-todo':
          return { todos: [...state.todos, { text: intent.text, done: false }], ...reply(`Added to your list: "${intent.text}".`) };
        case 'complete-todo': {
          const todo = state.todos[intent.index - 1];
          if (!todo) return reply(`There is no task ${intent.index}.`);
          return { todos: state.todos.map((entry, i) => (i === intent.index - 1 ? { ...entry, done: true } : entry)), ...reply(`Done: "${todo.text}".`) };
        }
        case 'list':
          return reply(listing(state));
        case 'greet':
          return reply(`Hello! ${HELP}`);
        default:
          return reply(HELP);
      }
    })
    .addNode('approve', (state) => {
      // interrupt() comes before any await: the rule of installBrowserAsyncContext().
      const intent = state.intent as Extract<Intent, { kind: 'clear' }>;
      const answer = interrupt({ question: `Clear ${intent.what}? This cannot be undone.` }) as 'approve' | 'reject';
      if (answer !== 'approve') return reply(`Kept your ${intent.what}.`);
      return {
        notes: intent.what === 'todos' ? state.notes : [],
        todos: intent.what === 'notes' ? state.todos : [],
        ...reply(`Cleared ${intent.what}.`),
      };
    })
    .addNode('memory', memory)
    .addNode('summarize', buildSummarizer())
    .addNode('report', (state) => reply(`Summary: ${state.summary}`))
    .addEdge(START, 'understand')
    .addConditionalEdges('understand', (state) => ROUTES[state.intent?.kind ?? 'help'] ?? 'tools', ['approve', 'memory', 'summarize', 'tools'])
    .addEdge('summarize', 'report')
    .addEdge('report', END)
    .addEdge('tools', END)
    .addEdge('approve', END)
    .addEdge('memory', END)
    .compile({ checkpointer, store });
}

export type Assistant = ReturnType<typeof buildAssistant>;
