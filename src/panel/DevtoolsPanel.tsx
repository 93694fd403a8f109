import { useCallback, useEffect, useMemo, useRef, useState, type ChangeEvent } from 'react';
import type {
  Breakpoints,
  CheckpointDataSource,
  CheckpointDetail,
  CheckpointSummary,
  DatabaseSummary,
  GraphDescription,
  JsonValue,
  SearchHit,
  ThreadSummary,
} from '../devtools/data-source.js';
import { createMemoryDataSource, parseThreadExport, type MemoryDataSource } from '../devtools/memory-source.js';
import { CheckpointDetailView, type DetailTab, type PanelGraph, type TimeTravelControls } from './CheckpointDetailView.js';
import { relativeTime } from './format.js';
import { inferGraph } from './graph-layout.js';
import { StoreView } from './StoreView.js';
import { Timeline } from './Timeline.js';
import { useLoaded } from './use-loaded.js';

export type PanelTheme = 'light' | 'dark' | 'auto';

const NO_BREAKPOINTS: Breakpoints = { interruptBefore: [], interruptAfter: [] };
/** The panel's views, in the order of their tabs. */
const VIEWS = { checkpoints: 'Checkpoints', store: 'Store' } as const;

/** The whole thread, for the lanes: far beyond any real thread, bounded so a runaway one cannot stall the panel. */
const HISTORY_LIMIT = 100_000;

const darkQuery = () => (typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : undefined);

function useDarkTheme(theme: PanelTheme): boolean {
  const [prefersDark, setPrefersDark] = useState(() => darkQuery()?.matches ?? false);
  useEffect(() => {
    if (theme !== 'auto') return;
    const query = darkQuery();
    if (!query) return;
    const onChange = () => setPrefersDark(query.matches);
    query.addEventListener('change', onChange);
    return () => query.removeEventListener('change', onChange);
  }, [theme]);
  return theme === 'auto' ? prefersDark : theme === 'dark';
}

const keyOf = ({ thread_id, checkpoint_ns, checkpoint_id }: CheckpointSummary) => ({ thread_id, checkpoint_ns, checkpoint_id });

function download(name: string, value: unknown): void {
  const url = URL.createObjectURL(new Blob([JSON.stringify(value, null, 2)], { type: 'application/json' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export interface DevtoolsPanelProps {
  source: CheckpointDataSource;
  theme?: PanelTheme;
}

/**
 * The checkpoint timeline panel: databases and threads, a thread's history as a tree in lanes, one checkpoint's
 * state, diff, writes and metadata, search, export and import, follow mode, and time travel where the page
 * allows it. It reads only through `source`, so the extension and the in-page panel are the same.
 */
export function DevtoolsPanel({ source: liveSource, theme = 'auto' }: DevtoolsPanelProps) {
  const [imported, setImported] = useState<MemoryDataSource | undefined>();
  const source = imported ?? liveSource;
  const dark = useDarkTheme(theme);
  const [error, setError] = useState<string | undefined>();
  const onError = useCallback((caught: unknown) => setError(caught instanceof Error ? caught.message : String(caught)), []);
  const [version, setVersion] = useState(0);
  const [now, setNow] = useState(() => Date.now());
  useEffect(
    () =>
      source.subscribe(() => {
        setVersion((value) => value + 1);
        setNow(Date.now());
      }),
    [source],
  );

  const databases = useLoaded<DatabaseSummary[]>(() => source.databases(), [], [source, version], onError);
  const [chosenDb, setChosenDb] = useState<string | undefined>();
  const database = databases.find((entry) => entry.name === chosenDb) ?? databases[0];
  const dbName = database?.name;

  const threads = useLoaded<ThreadSummary[]>(() => (dbName ? source.threads(dbName) : undefined), [], [source, dbName, version], onError);
  const [threadFilter, setThreadFilter] = useState('');
  const shownThreads = threads.filter((thread) => thread.thread_id.toLowerCase().includes(threadFilter.toLowerCase()));
  const [chosenThread, setChosenThread] = useState<string | undefined>();
  const thread = threads.find((entry) => entry.thread_id === chosenThread) ?? threads[0];
  const threadId = thread?.thread_id;

  const namespaces = useMemo(() => [...(thread?.namespaces ?? [''])].sort((a, b) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)), [thread]);
  const [chosenNs, setChosenNs] = useState('');
  const ns = namespaces.includes(chosenNs) ? chosenNs : (namespaces[0] ?? '');

  const history = useLoaded<CheckpointSummary[]>(
    () => (dbName && threadId ? source.history(dbName, { thread_id: threadId, checkpoint_ns: ns, limit: HISTORY_LIMIT }) : undefined),
    [],
    [source, dbName, threadId, ns, version],
    onError,
  );

  const [follow, setFollow] = useState(true);
  const [chosenId, setChosenId] = useState<string | undefined>();
  const chosenInHistory = history.some((entry) => entry.checkpoint_id === chosenId);
  const selectedId = (follow || !chosenInHistory ? history[0]?.checkpoint_id : chosenId) ?? undefined;
  const selected = history.find((entry) => entry.checkpoint_id === selectedId);
  const select = (id: string) => {
    setChosenId(id);
    setFollow(id === history[0]?.checkpoint_id && follow);
  };

  const detail = useLoaded<CheckpointDetail | undefined>(
    () => (dbName && selected ? source.checkpoint(dbName, keyOf(selected)) : undefined),
    undefined,
    [source, dbName, selected?.checkpoint_id, version],
    onError,
  );
  const parentKey = selected?.parent_checkpoint_id ?? undefined;
  const parent = useLoaded<CheckpointDetail | undefined>(
    () => (dbName && selected && parentKey ? source.checkpoint(dbName, { ...keyOf(selected), checkpoint_id: parentKey }) : undefined),
    undefined,
    [source, dbName, selected?.checkpoint_id, parentKey],
    onError,
  );

  // Asked again when the page announces its graph (in the extension, the page may announce after the panel opened).
  const pageGraph = useLoaded<GraphDescription | null>(
    () => (dbName ? source.graph(dbName) : undefined),
    null,
    [source, dbName, database?.timeTravel],
    onError,
  );
  const inferred = useMemo(() => inferGraph(history), [history]);
  const graph: PanelGraph = pageGraph ? { description: pageGraph, inferred: false } : { description: inferred, inferred: true };
  const [breakpoints, setBreakpoints] = useState<Breakpoints>(NO_BREAKPOINTS);
  const [tab, setTab] = useState<DetailTab>('state');

  const [searchText, setSearchText] = useState('');
  const [hits, setHits] = useState<SearchHit[]>([]);
  const [hitIndex, setHitIndex] = useState(0);
  const nsHits = hits.filter((hit) => hit.checkpoint.checkpoint_ns === ns);
  const hitIds = useMemo(() => new Set(nsHits.map((hit) => hit.checkpoint.checkpoint_id)), [nsHits]);
  const jumpToHit = (index: number, list = nsHits) => {
    if (list.length === 0) return;
    const wrapped = (index + list.length) % list.length;
    setHitIndex(wrapped);
    setFollow(false);
    setChosenId(list[wrapped]!.checkpoint.checkpoint_id);
  };
  const search = async () => {
    if (!dbName || !threadId) return;
    try {
      const found = await source.search(dbName, threadId, searchText);
      setHits(found);
      jumpToHit(0, found.filter((hit) => hit.checkpoint.checkpoint_ns === ns));
    } catch (caught) {
      onError(caught);
    }
  };

  const fileInput = useRef<HTMLInputElement>(null);
  const importFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = '';
    if (!file) return;
    try {
      const exported = parseThreadExport(JSON.parse(await file.text()));
      setImported(createMemoryDataSource([exported]));
      setChosenDb(exported.dbName);
      setChosenThread(exported.thread_id);
      setError(undefined);
    } catch (caught) {
      onError(caught);
    }
  };
  const exportThread = async () => {
    if (!dbName || !threadId) return;
    try {
      download(`${threadId}.juncture.json`, await source.exportThread(dbName, threadId));
    } catch (caught) {
      onError(caught);
    }
  };

  const [view, setView] = useState<keyof typeof VIEWS>('checkpoints');
  const viewTabs = (
    <nav className="juncture-views" aria-label="Views">
      {Object.entries(VIEWS).map(([name, label]) => (
        <button key={name} aria-pressed={view === name} onClick={() => setView(name as keyof typeof VIEWS)}>
          {label}
        </button>
      ))}
    </nav>
  );
  if (view === 'store') {
    return (
      <div className="juncture-panel" data-theme={dark ? 'dark' : 'light'}>
        <StoreView source={source} dark={dark} version={version} now={now} tabs={viewTabs} error={error} onError={onError} onDismissError={() => setError(undefined)} />
      </div>
    );
  }

  const timeTravel: TimeTravelControls | undefined =
    database?.timeTravel && dbName && selected
      ? {
          fork: async (values: Record<string, JsonValue>) => {
            const forked = await source.fork(dbName, keyOf(selected), values);
            setFollow(false);
            setChosenId(forked.checkpoint_id);
          },
          resume: async () => {
            setFollow(true);
            await source.resume(dbName, keyOf(selected), breakpoints);
          },
        }
      : undefined;

  return (
    <div className="juncture-panel" data-theme={dark ? 'dark' : 'light'}>
      <div className="juncture-toolbar" role="toolbar" aria-label="Thread tools">
        {viewTabs}
        <label>
          Namespace{' '}
          <select aria-label="Namespace" value={ns} onChange={(event) => setChosenNs(event.target.value)}>
            {namespaces.map((name) => (
              <option key={name} value={name}>
                {name === '' ? '(root)' : name}
              </option>
            ))}
          </select>
        </label>
        <input
          type="search"
          aria-label="Search values"
          placeholder="Search keys and values"
          value={searchText}
          onChange={(event) => setSearchText(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === 'Enter') void (event.shiftKey ? jumpToHit(hitIndex - 1) : hits.length && searchText ? jumpToHit(hitIndex + 1) : search());
          }}
        />
        <button onClick={() => void search()}>Search</button>
        {hits.length > 0 && (
          <span aria-live="polite">
            {nsHits.length === 0 ? 'no hits here' : `${hitIndex + 1} of ${nsHits.length}`} <button onClick={() => jumpToHit(hitIndex - 1)}>Previous</button>{' '}
            <button onClick={() => jumpToHit(hitIndex + 1)}>Next</button>
          </span>
        )}
        <span className="grow" />
        <label>
          <input type="checkbox" checked={follow} onChange={(event) => setFollow(event.target.checked)} /> Follow head
        </label>
        <button onClick={() => void exportThread()} disabled={!threadId}>
          Export
        </button>
        <button onClick={() => fileInput.current?.click()}>Import</button>
        <input ref={fileInput} type="file" accept="application/json,.json" hidden aria-label="Import a thread" onChange={(event) => void importFile(event)} />
        {imported && (
          <button
            onClick={() => {
              setImported(undefined);
              setChosenDb(undefined);
              setChosenThread(undefined);
            }}
          >
            Back to the live page
          </button>
        )}
      </div>
      {error && (
        <p role="alert" className="juncture-alert">
          Could not read checkpoints: {error} <button onClick={() => setError(undefined)}>Dismiss</button>
        </p>
      )}
      <aside className="juncture-sidebar">
        <h2>Databases</h2>
        {databases.length === 0 ? (
          <p className="juncture-empty">No checkpoint databases on this page. Call connectDevtools(saver) in the page to see its agent live.</p>
        ) : (
          <ul className="juncture-list" aria-label="Databases">
            {databases.map((entry) => (
              <li key={entry.name}>
                <button aria-pressed={entry.name === dbName} onClick={() => setChosenDb(entry.name)}>
                  {entry.name} <span className="meta">{imported ? 'imported' : entry.live ? 'live' : ''}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
        <h2>Threads</h2>
        <input type="search" aria-label="Filter threads" placeholder="Filter threads" value={threadFilter} onChange={(event) => setThreadFilter(event.target.value)} />
        <ul className="juncture-list" aria-label="Threads">
          {shownThreads.map((entry) => (
            <li key={entry.thread_id}>
              <button aria-pressed={entry.thread_id === threadId} onClick={() => setChosenThread(entry.thread_id)}>
                <div>{entry.thread_id}</div>
                <div className="meta">
                  {entry.checkpoints} checkpoints · {relativeTime(entry.latest_ts, now)}
                </div>
              </button>
            </li>
          ))}
        </ul>
      </aside>
      <Timeline checkpoints={history} selectedId={selectedId} onSelect={select} hits={hitIds} now={now} />
      <section className="juncture-detail" aria-label="Checkpoint">
        {detail && detail.checkpoint_id === selectedId ? (
          <CheckpointDetailView
            key={detail.checkpoint_id}
            detail={detail}
            parent={parent}
            dark={dark}
            timeTravel={timeTravel}
            graph={graph}
            history={history}
            breakpoints={{ value: breakpoints, onChange: setBreakpoints }}
            tab={tab}
            onTab={setTab}
          />
        ) : (
          <p className="juncture-empty">{history.length ? 'Loading…' : 'Pick a thread.'}</p>
        )}
      </section>
    </div>
  );
}
