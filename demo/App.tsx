import type { RunnableConfig } from '@langchain/core/runnables';
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import type { SyncController, SyncState } from '../src/sync/index.js';
import type { Branch, ConversationView, Conversations, ThreadEntry } from './assistant/conversations.js';

const checkpointOf = (config: RunnableConfig | undefined) => config?.configurable?.['checkpoint_id'] as string | undefined;

function newThreadId(): string {
  return `chat-${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${Math.random().toString(36).slice(2, 6)}`;
}

/** The sync status, small: a dot and a word, the error's message on hover. */
function SyncStatus({ sync }: { sync: SyncController }) {
  const [state, setState] = useState<SyncState>({ status: sync.status, error: sync.error, leader: sync.leader });
  useEffect(() => sync.subscribe(setState), [sync]);
  return (
    <p className={`sync ${state.status}`} role="status" aria-label="Sync" title={state.error?.message}>
      Sync: {state.status}
    </p>
  );
}

/** The demo assistant's page: conversations, the chat with approvals and branches, and the assistant's memory. */
export function App({ conversations, sync }: { conversations: Conversations; sync: SyncController }) {
  const [threads, setThreads] = useState<ThreadEntry[]>([]);
  const [threadId, setThreadId] = useState<string>(() => newThreadId());
  const [view, setView] = useState<ConversationView | undefined>();
  const [branches, setBranches] = useState<Branch[]>([]);
  const [memories, setMemories] = useState<string[]>([]);
  /** The branch head being shown, when it is not the thread's newest checkpoint. */
  const [head, setHead] = useState<RunnableConfig | undefined>();
  /** Where the next message starts a new branch, when the user chose to branch. */
  const [branchFrom, setBranchFrom] = useState<{ config: RunnableConfig; message: number } | undefined>();
  const [draft, setDraft] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  const refresh = useCallback(
    async (thread: string, shown?: RunnableConfig) => {
      const [list, current, heads, remembered] = await Promise.all([
        conversations.list(),
        conversations.view(thread, shown),
        conversations.branches(thread),
        conversations.memories(),
      ]);
      setThreads(list);
      setMemories(remembered);
      setView(current);
      setBranches(heads);
    },
    [conversations],
  );

  // What is shown, for refreshing it when another tab or device commits.
  const shown = useRef({ threadId, head });
  shown.current = { threadId, head };
  // While the page's own action runs, its commits are not refreshed one by one: the action refreshes when it ends,
  // and a graph read in the middle of a run would share the run's async context where it is emulated (WebKit).
  const acting = useRef(false);
  useEffect(() => {
    let pending = false;
    return conversations.onChange(() => {
      // A pull commits page by page: one refresh for a burst of commits.
      if (pending) return;
      pending = true;
      setTimeout(() => {
        pending = false;
        if (acting.current) return;
        void refresh(shown.current.threadId, shown.current.head).catch((caught: unknown) => setError(String(caught)));
      }, 50);
    });
  }, [conversations, refresh]);

  useEffect(() => {
    void (async () => {
      const list = await conversations.list();
      const first = list[0]?.thread_id;
      if (first) setThreadId(first);
      await refresh(first ?? threadId);
    })();
    // Once, on load.
  }, []);

  const run = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    acting.current = true;
    try {
      await action();
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    } finally {
      acting.current = false;
      setBusy(false);
    }
  };

  const send = (event: FormEvent) => {
    event.preventDefault();
    const text = draft.trim();
    if (!text) return;
    void run(async () => {
      await conversations.send(threadId, text, branchFrom?.config ?? head);
      setDraft('');
      setBranchFrom(undefined);
      setHead(undefined);
      await refresh(threadId);
    });
  };

  const answer = (choice: 'approve' | 'reject') =>
    void run(async () => {
      await conversations.answer(threadId, choice, head);
      setHead(undefined);
      await refresh(threadId);
    });

  const open = (thread: string) =>
    void run(async () => {
      setThreadId(thread);
      setHead(undefined);
      setBranchFrom(undefined);
      await refresh(thread);
    });

  const remove = (thread: string) =>
    void run(async () => {
      await conversations.delete(thread);
      const next = thread === threadId ? newThreadId() : threadId;
      setThreadId(next);
      setHead(undefined);
      await refresh(next);
    });

  const showBranch = (branch: Branch) =>
    void run(async () => {
      setHead(branch.config);
      setBranchFrom(undefined);
      await refresh(threadId, branch.config);
    });

  const branchAt = (index: number) =>
    void run(async () => {
      if (!view) return;
      setBranchFrom({ config: await conversations.branchPoint(threadId, index, view.config), message: index });
    });

  const shownHead = checkpointOf(head) ?? checkpointOf(branches[0]?.config);

  return (
    <div className="app">
      <aside className="threads" aria-label="Conversations">
        <button
          className="primary"
          onClick={() =>
            void run(async () => {
              const thread = newThreadId();
              setThreadId(thread);
              setHead(undefined);
              setBranchFrom(undefined);
              await refresh(thread);
            })
          }
        >
          New conversation
        </button>
        <ul>
          {threads.map((thread) => (
            <li key={thread.thread_id} aria-current={thread.thread_id === threadId}>
              <button className="thread" onClick={() => open(thread.thread_id)}>
                {thread.title}
              </button>
              <button className="delete" aria-label={`Delete "${thread.title}"`} onClick={() => remove(thread.thread_id)}>
                ×
              </button>
            </li>
          ))}
        </ul>
      </aside>
      <main className="chat">
        {branches.length > 1 && (
          <nav className="branches" aria-label="Branches">
            {branches.map((branch, i) => (
              <button key={checkpointOf(branch.config)} aria-pressed={checkpointOf(branch.config) === shownHead} onClick={() => showBranch(branch)}>
                Branch {branches.length - i}: {branch.label} ({branch.messages})
              </button>
            ))}
          </nav>
        )}
        <ol className="messages" aria-label="Messages">
          {view?.messages.length === 0 && <li className="hint">Say hello, or try “note: buy milk”.</li>}
          {view?.messages.map((message, i) => (
            <li key={i} className={`message ${message.role}${branchFrom && i > branchFrom.message ? ' faded' : ''}`}>
              <span className="text">{message.text}</span>
              <button className="branch" onClick={() => branchAt(i)} title="Continue the conversation differently from here">
                Branch from here
              </button>
            </li>
          ))}
        </ol>
        {view?.waiting && (
          <div className="approval" role="alertdialog" aria-label="Approval">
            <p>{view.waiting}</p>
            <button className="danger" onClick={() => answer('approve')} disabled={busy}>
              Approve
            </button>
            <button onClick={() => answer('reject')} disabled={busy}>
              Keep them
            </button>
          </div>
        )}
        {error && <p role="alert">{error}</p>}
        {branchFrom && (
          <p className="branching">
            Your next message starts a new branch after message {branchFrom.message + 1}.{' '}
            <button onClick={() => setBranchFrom(undefined)}>Cancel</button>
          </p>
        )}
        <form className="composer" onSubmit={send}>
          <input aria-label="Message" value={draft} onChange={(event) => setDraft(event.target.value)} placeholder="Message the assistant" disabled={busy || !!view?.waiting} />
          <button className="primary" disabled={busy || !!view?.waiting}>
            Send
          </button>
        </form>
      </main>
      <aside className="memory" aria-label="Memory">
        <h2>Notes</h2>
        <ul aria-label="Notes">{view?.notes.map((note, i) => <li key={i}>{note}</li>)}</ul>
        <h2>To-do</h2>
        <ul aria-label="To-do">
          {view?.todos.map((todo, i) => (
            <li key={i} className={todo.done ? 'done' : ''}>
              {todo.text}
            </li>
          ))}
        </ul>
        <h2>Remembered in every conversation</h2>
        <ul aria-label="Remembered">{memories.map((fact) => <li key={fact}>{fact}</li>)}</ul>
        <p className="fineprint">Kept in this browser (IndexedDB, in a worker) and synced with the demo server. Works offline.</p>
        <SyncStatus sync={sync} />
      </aside>
    </div>
  );
}
