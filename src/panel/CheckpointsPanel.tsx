import { useCallback, useEffect, useState } from 'react';
import type { CheckpointDataSource, CheckpointSummary, DatabaseSummary, ThreadSummary } from '../devtools/data-source.js';

const HISTORY_PAGE = 200;

interface PanelState {
  databases: DatabaseSummary[];
  threads: ThreadSummary[];
  history: CheckpointSummary[];
}

/**
 * The checkpoints panel: databases, their threads, and a thread's checkpoints newest first, kept up to date as
 * the source reports changes. It reads only through `source`, so it works in the extension and in the page.
 */
export function CheckpointsPanel({ source }: { source: CheckpointDataSource }) {
  const [data, setData] = useState<PanelState>({ databases: [], threads: [], history: [] });
  const [dbName, setDbName] = useState<string | undefined>();
  const [threadId, setThreadId] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [loaded, setLoaded] = useState(false);

  const refresh = useCallback(async () => {
    try {
      const databases = await source.databases();
      const db = dbName && databases.some((entry) => entry.name === dbName) ? dbName : databases[0]?.name;
      const threads = db ? await source.threads(db) : [];
      const thread = threadId && threads.some((entry) => entry.thread_id === threadId) ? threadId : threads[0]?.thread_id;
      const history = db && thread ? await source.history(db, { thread_id: thread, limit: HISTORY_PAGE }) : [];
      setData({ databases, threads, history });
      setDbName(db);
      setThreadId(thread);
      setError(undefined);
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    } finally {
      setLoaded(true);
    }
  }, [source, dbName, threadId]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  useEffect(() => source.subscribe(() => void refresh()), [source, refresh]);

  return (
    <div className="juncture-panel">
      {error && <p role="alert">Could not read checkpoints: {error}</p>}
      {loaded && data.databases.length === 0 && !error && (
        <p>No checkpoint databases on this page. Call connectDevtools(saver) in the page to see its agent live.</p>
      )}
      <nav aria-label="Databases">
        {data.databases.map((database) => (
          <button key={database.name} aria-pressed={database.name === dbName} onClick={() => setDbName(database.name)}>
            {database.name}
            {database.live ? ' (live)' : ''}
          </button>
        ))}
      </nav>
      <nav aria-label="Threads">
        {data.threads.map((thread) => (
          <button key={thread.thread_id} aria-pressed={thread.thread_id === threadId} onClick={() => setThreadId(thread.thread_id)}>
            {thread.thread_id} ({thread.checkpoints})
          </button>
        ))}
      </nav>
      {threadId && (
        <table aria-label="Checkpoints">
          <thead>
            <tr>
              <th>checkpoint</th>
              <th>parent</th>
              <th>namespace</th>
              <th>step</th>
              <th>source</th>
            </tr>
          </thead>
          <tbody>
            {data.history.map((checkpoint) => (
              <tr key={`${checkpoint.checkpoint_ns}/${checkpoint.checkpoint_id}`} data-checkpoint-id={checkpoint.checkpoint_id}>
                <td>{checkpoint.checkpoint_id}</td>
                <td>{checkpoint.parent_checkpoint_id ?? ''}</td>
                <td>{checkpoint.checkpoint_ns}</td>
                <td>{checkpoint.step ?? ''}</td>
                <td>{checkpoint.source ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
