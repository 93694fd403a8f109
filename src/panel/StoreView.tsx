import { useMemo, useState, type ReactNode } from 'react';
import type { CheckpointDataSource, StoreItemView } from '../devtools/data-source.js';
import { relativeTime } from './format.js';
import { JsonValueView } from './JsonValueView.js';
import { useLoaded } from './use-loaded.js';

/** Items shown at most: enough to browse, bounded so a huge store cannot stall the panel; search narrows them. */
const ITEM_LIMIT = 500;

interface NamespaceNode {
  label: string;
  path: string[];
  children: NamespaceNode[];
}

/** Namespaces (in key order) as a tree of their labels: `['memories', 'ada']` sits under `memories`. */
function namespaceTree(namespaces: string[][]): NamespaceNode[] {
  const roots: NamespaceNode[] = [];
  for (const namespace of namespaces) {
    let level = roots;
    namespace.forEach((label, depth) => {
      let node = level.find((candidate) => candidate.label === label);
      if (!node) {
        node = { label, path: namespace.slice(0, depth + 1), children: [] };
        level.push(node);
      }
      level = node.children;
    });
  }
  return roots;
}

const samePath = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((label, i) => label === b[i]);
const itemId = (item: StoreItemView) => JSON.stringify([item.namespace, item.key]);

function NamespaceBranch({ nodes, chosen, onChoose }: { nodes: NamespaceNode[]; chosen: string[]; onChoose(path: string[]): void }) {
  return (
    <ul role="group" className="juncture-list">
      {nodes.map((node) => (
        <li key={node.label} role="treeitem" aria-selected={samePath(node.path, chosen)}>
          <button aria-pressed={samePath(node.path, chosen)} onClick={() => onChoose(node.path)} style={{ paddingLeft: 6 + 12 * (node.path.length - 1) }}>
            {node.label}
          </button>
          {node.children.length > 0 && <NamespaceBranch nodes={node.children} chosen={chosen} onChoose={onChoose} />}
        </li>
      ))}
    </ul>
  );
}

export interface StoreViewProps {
  source: CheckpointDataSource;
  dark: boolean;
  /** Changes whenever the source reported a change: everything shown is read again. */
  version: number;
  now: number;
  /** The panel's view switch, shown at the start of the toolbar. */
  tabs: ReactNode;
  /** The last read that failed, shown under the toolbar. */
  error: string | undefined;
  onError(error: unknown): void;
  onDismissError(): void;
}

/**
 * The Store view: a long-term memory store's namespaces as a tree, the items under the chosen one (narrowed by
 * text), and one item's value and times. Values are shown as text (a JSON tree), never as HTML.
 */
export function StoreView({ source, dark, version, now, tabs, error, onError, onDismissError }: StoreViewProps) {
  const databases = useLoaded<string[]>(() => source.storeDatabases(), [], [source, version], onError);
  const [chosenDb, setChosenDb] = useState<string | undefined>();
  const dbName = databases.find((name) => name === chosenDb) ?? databases[0];
  const namespaces = useLoaded<string[][]>(() => (dbName ? source.storeNamespaces(dbName) : undefined), [], [source, dbName, version], onError);
  const tree = useMemo(() => namespaceTree(namespaces), [namespaces]);
  const [prefix, setPrefix] = useState<string[]>([]);
  const [text, setText] = useState('');
  const items = useLoaded<StoreItemView[]>(
    () => (dbName ? source.storeItems(dbName, { namespace: prefix, ...(text.trim() ? { text } : {}), limit: ITEM_LIMIT }) : undefined),
    [],
    [source, dbName, JSON.stringify(prefix), text, version],
    onError,
  );
  const [chosenItem, setChosenItem] = useState<string | undefined>();
  const item = items.find((candidate) => itemId(candidate) === chosenItem) ?? items[0];

  return (
    <>
      <div className="juncture-toolbar" role="toolbar" aria-label="Store tools">
        {tabs}
        <input type="search" aria-label="Search items" placeholder="Search item values" value={text} onChange={(event) => setText(event.target.value)} />
        <span className="meta" aria-live="polite">
          {items.length === ITEM_LIMIT ? `first ${ITEM_LIMIT} items` : `${items.length} item${items.length === 1 ? '' : 's'}`}
        </span>
      </div>
      {error && (
        <p role="alert" className="juncture-alert">
          Could not read the store: {error} <button onClick={onDismissError}>Dismiss</button>
        </p>
      )}
      <aside className="juncture-sidebar">
        <h2>Stores</h2>
        {databases.length === 0 ? (
          <p className="juncture-empty">No store on this page. Pass it to the devtools: connectDevtools(saver, &#123; store &#125;).</p>
        ) : (
          <ul className="juncture-list" aria-label="Stores">
            {databases.map((name) => (
              <li key={name}>
                <button aria-pressed={name === dbName} onClick={() => setChosenDb(name)}>
                  {name}
                </button>
              </li>
            ))}
          </ul>
        )}
        <h2>Namespaces</h2>
        <div role="tree" aria-label="Namespaces">
          <button aria-pressed={prefix.length === 0} onClick={() => setPrefix([])}>
            (all)
          </button>
          <NamespaceBranch nodes={tree} chosen={prefix} onChoose={setPrefix} />
        </div>
      </aside>
      <ul className="juncture-list juncture-items" aria-label="Items">
        {items.map((entry) => (
          <li key={itemId(entry)}>
            <button aria-pressed={entry === item} onClick={() => setChosenItem(itemId(entry))}>
              <div>{entry.key}</div>
              <div className="meta">
                {entry.namespace.join(' / ')} · {relativeTime(entry.updated_at, now)}
              </div>
            </button>
          </li>
        ))}
      </ul>
      <section className="juncture-detail" aria-label="Item">
        {item ? (
          <>
            <div className="juncture-detail-title">
              <strong>{item.key}</strong>
              <div className="meta">
                {item.namespace.join(' / ')} · created {relativeTime(item.created_at, now)} · updated {relativeTime(item.updated_at, now)}
                {item.expires_at && ` · expires ${relativeTime(item.expires_at, now)}`}
              </div>
            </div>
            <JsonValueView key={itemId(item)} name="value" value={item.value} dark={dark} />
          </>
        ) : (
          <p className="juncture-empty">{dbName ? 'No items here.' : 'Pick a store.'}</p>
        )}
      </section>
    </>
  );
}
