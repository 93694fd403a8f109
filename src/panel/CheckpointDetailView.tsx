import { useMemo, useState } from 'react';
import type { Breakpoints, CheckpointDetail, CheckpointSummary, GraphDescription, JsonValue, PendingWriteView } from '../devtools/data-source.js';
import { asChatMessages, diffChatMessages, messageListsOf, toolCallsById, type MessageChanges } from '../devtools/messages.js';
import { diffValues } from './diff.js';
import { graphNodeId } from './graph-layout.js';
import { GraphView } from './GraphView.js';
import { JsonValueView, copyAsJson } from './JsonValueView.js';
import { KnownToolCalls, MessageListChanges } from './MessageViews.js';
import { TimingSummary } from './TimingSummary.js';

type Tab = 'state' | 'diff' | 'writes' | 'metadata' | 'graph' | 'timing';
const TABS: [Tab, string][] = [
  ['state', 'State'],
  ['diff', 'Diff'],
  ['writes', 'Writes'],
  ['metadata', 'Metadata'],
  ['graph', 'Graph'],
  ['timing', 'Timing'],
];

function Writes({ writes, dark }: { writes: PendingWriteView[]; dark: boolean }) {
  if (writes.length === 0) return <p className="juncture-empty">No pending writes.</p>;
  const byTask = new Map<string, PendingWriteView[]>();
  for (const write of writes) byTask.set(write.task_id, [...(byTask.get(write.task_id) ?? []), write]);
  return (
    <>
      {[...byTask.entries()].map(([task, taskWrites]) => {
        const kind = taskWrites.some((write) => write.channel === '__error__')
          ? 'error'
          : taskWrites.some((write) => write.channel === '__interrupt__')
            ? 'interrupt'
            : '';
        return (
          <section key={task} className={`juncture-task ${kind}`} aria-label={`task ${task}`}>
            <header>
              <strong>{taskWrites[0]!.task_path || task}</strong> {kind && <em>{kind}</em>}
            </header>
            {taskWrites.map((write) => (
              <JsonValueView key={`${write.idx}-${write.channel}`} name={write.channel} value={write.value} dark={dark} />
            ))}
          </section>
        );
      })}
    </>
  );
}

/** Channels of messages, split from the rest: their changes are shown message by message. */
function splitMessageChannels(before: Record<string, JsonValue>, after: Record<string, JsonValue>) {
  const messageChanges: [string, MessageChanges][] = [];
  const otherBefore = { ...before };
  const otherAfter = { ...after };
  for (const channel of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const lists = messageListsOf(before[channel], after[channel]);
    if (!lists) continue;
    delete otherBefore[channel];
    delete otherAfter[channel];
    const changes = diffChatMessages(...lists);
    if (changes.added.length + changes.replaced.length + changes.removed.length > 0) messageChanges.push([channel, changes]);
  }
  return { messageChanges, lines: diffValues(otherBefore, otherAfter) };
}

function Diff({ parent, detail, dark }: { parent: CheckpointDetail | undefined; detail: CheckpointDetail; dark: boolean }) {
  const { messageChanges, lines } = useMemo(() => splitMessageChannels(parent?.channel_values ?? {}, detail.channel_values), [parent, detail]);
  if (!parent && detail.parent_checkpoint_id) return <p className="juncture-empty">Loading the parent…</p>;
  if (lines.length === 0 && messageChanges.length === 0) {
    return <p className="juncture-empty">{parent ? 'No change from the parent.' : 'The first checkpoint: nothing to compare.'}</p>;
  }
  const sign = { add: '+', remove: '-', replace: '~', move: '>' };
  return (
    <>
      {messageChanges.map(([channel, changes]) => (
        <MessageListChanges key={channel} channel={channel} changes={changes} dark={dark} />
      ))}
      {lines.length > 0 && (
        <pre className="juncture-diff" aria-label="Diff against the parent">
          {lines.map((line, i) => (
            <div key={i} className={line.kind}>
              {sign[line.kind]} {line.path}
              {line.from !== undefined ? ` from ${line.from}` : ''}
              {line.value !== undefined ? ` = ${line.value}` : ''}
            </div>
          ))}
        </pre>
      )}
    </>
  );
}

/** The tool calls in a checkpoint's channels and its parent's, by id. */
function toolCallsOf(...details: (CheckpointDetail | undefined)[]) {
  return toolCallsById(details.flatMap((detail) => Object.values(detail?.channel_values ?? {}).flatMap((value) => asChatMessages(value) ?? [])));
}

export interface TimeTravelControls {
  fork(values: Record<string, JsonValue>): Promise<void>;
  resume(): Promise<void>;
}

function TimeTravel({ detail, controls }: { detail: CheckpointDetail; controls: TimeTravelControls }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState('');
  const [status, setStatus] = useState<string | undefined>();
  const run = async (action: () => Promise<void>, done: string) => {
    setStatus('Working…');
    try {
      await action();
      setStatus(done);
      setEditing(false);
    } catch (error) {
      setStatus(error instanceof Error ? error.message : String(error));
    }
  };
  const fork = () => {
    let values: Record<string, JsonValue>;
    try {
      values = JSON.parse(text) as Record<string, JsonValue>;
    } catch (error) {
      setStatus(`Not valid JSON: ${(error as Error).message}`);
      return;
    }
    void run(() => controls.fork(values), 'Forked.');
  };
  return (
    <section aria-label="Time travel">
      <button
        onClick={() => {
          setText(JSON.stringify(detail.channel_values, null, 2));
          setEditing(true);
        }}
      >
        Fork from here
      </button>{' '}
      <button onClick={() => void run(() => controls.resume(), 'Resumed.')}>Resume from here</button>
      {editing && (
        <div>
          <textarea aria-label="Values of the fork" rows={8} style={{ width: '100%' }} value={text} onChange={(event) => setText(event.target.value)} />
          <button onClick={fork}>Create fork</button> <button onClick={() => setEditing(false)}>Cancel</button>
        </div>
      )}
      {status && <p role="status">{status}</p>}
    </section>
  );
}

/** The graph the Graph tab draws: the page's, or one inferred from the checkpoints. */
export interface PanelGraph {
  description: GraphDescription;
  inferred: boolean;
}

export interface CheckpointDetailViewProps {
  detail: CheckpointDetail;
  parent: CheckpointDetail | undefined;
  dark: boolean;
  timeTravel: TimeTravelControls | undefined;
  graph: PanelGraph;
  /** The checkpoints of the thread in this namespace, for the timing summary. */
  history: readonly CheckpointSummary[];
  breakpoints: { value: Breakpoints; onChange(next: Breakpoints): void };
  tab: Tab;
  onTab(tab: Tab): void;
}

export type DetailTab = Tab;

/** One checkpoint: state, diff against its parent, pending writes by task, metadata and config, the graph, timing. */
export function CheckpointDetailView({ detail, parent, dark, timeTravel, graph, history, breakpoints, tab, onTab: setTab }: CheckpointDetailViewProps) {
  const highlights = useMemo(() => {
    // The page's graph names a subgraph's nodes by path; an inferred one by the names seen in this namespace.
    const idOf = (node: string) => (graph.inferred ? node : graphNodeId(detail.checkpoint_ns, node));
    return { ran: new Set(detail.nodes.map(idOf)), next: new Set(detail.next.map(idOf)), interrupts: new Set(detail.interrupts.map(idOf)) };
  }, [detail, graph.inferred]);
  const config = { thread_id: detail.thread_id, checkpoint_ns: detail.checkpoint_ns, checkpoint_id: detail.checkpoint_id };
  const knownCalls = useMemo(() => toolCallsOf(parent, detail), [parent, detail]);
  return (
    <KnownToolCalls.Provider value={knownCalls}>
      <header className="juncture-detail-title">
        <strong>Checkpoint {detail.checkpoint_id}</strong> <button onClick={() => copyAsJson(detail)}>Copy all</button>
        <div className="meta">
          step {detail.step ?? '–'} · {detail.source ?? 'unknown source'}
          {detail.nodes.length > 0 ? ` · ${detail.nodes.join(', ')}` : ''}
          {detail.ts ? ` · ${detail.ts}` : ''}
        </div>
      </header>
      {timeTravel && <TimeTravel detail={detail} controls={timeTravel} />}
      <div className="juncture-tabs" role="tablist">
        {TABS.map(([id, label]) => (
          <button key={id} role="tab" aria-selected={tab === id} aria-pressed={tab === id} onClick={() => setTab(id)}>
            {label}
            {id === 'writes' && detail.pending_writes.length > 0 ? ` (${detail.pending_writes.length})` : ''}
          </button>
        ))}
      </div>
      {tab === 'state' &&
        (Object.keys(detail.channel_values).length === 0 ? (
          <p className="juncture-empty">No channel values.</p>
        ) : (
          Object.entries(detail.channel_values).map(([channel, value]) => <JsonValueView key={channel} name={channel} value={value} dark={dark} />)
        ))}
      {tab === 'diff' && <Diff parent={parent} detail={detail} dark={dark} />}
      {tab === 'writes' && <Writes writes={detail.pending_writes} dark={dark} />}
      {tab === 'graph' && (
        <GraphView graph={graph.description} inferred={graph.inferred} highlights={highlights} {...(timeTravel ? { breakpoints } : {})} />
      )}
      {tab === 'timing' && <TimingSummary checkpoints={history} />}
      {tab === 'metadata' && (
        <>
          <JsonValueView name="metadata" value={detail.metadata} dark={dark} />
          <JsonValueView name="config" value={{ configurable: config }} dark={dark} />
          <JsonValueView name="parent" value={detail.parent_checkpoint_id} dark={dark} />
          <JsonValueView name="channel_versions" value={detail.channel_versions} dark={dark} />
          <JsonValueView name="versions_seen" value={detail.versions_seen} dark={dark} />
        </>
      )}
    </KnownToolCalls.Provider>
  );
}
