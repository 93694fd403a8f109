import { CONTENT_SOURCE, HOOK_SOURCE, readContentMessage, readHookMessage } from '../../src/devtools/protocol.js';
import { researchGraph } from '../support/fixture-threads.js';

const fromPage = (data: unknown) => new MessageEvent('message', { data, origin: location.origin, source: window });
const graphResult = (graph: unknown) => readHookMessage(fromPage({ source: HOOK_SOURCE, type: 'graph-result', requestId: 'r1', ok: true, graph }), window);

describe('the graph messages between page and content script', () => {
  it('takes a graph description from the page rebuilt from its checked fields only', () => {
    const graph = researchGraph();
    const withExtras = { ...graph, script: 'x', nodes: graph.nodes.map((node) => ({ ...node, html: '<b>' })) };
    expect(graphResult(withExtras)).toEqual({ source: HOOK_SOURCE, type: 'graph-result', requestId: 'r1', ok: true, graph });
  });

  it('drops a description that is not one: a node without a name, an edge to nothing, a flood of nodes', () => {
    const graph = researchGraph();
    const broken = [
      { ...graph, nodes: [...graph.nodes, { id: 7, name: 'seven' }] },
      { ...graph, edges: [...graph.edges, { source: 'plan', conditional: true }] },
      { nodes: Array.from({ length: 2001 }, (_, i) => ({ id: `n${i}`, name: `n${i}` })), edges: [] },
      'plan -> review',
    ];
    for (const description of broken) expect(graphResult(description)).toEqual({ source: HOOK_SOURCE, type: 'graph-result', requestId: 'r1', ok: true });
  });

  it('passes resume requests to the page only with well-formed breakpoints', () => {
    const key = { thread_id: 't', checkpoint_ns: 'edit:1', checkpoint_id: 'c1' };
    const request = (breakpoints: unknown) =>
      readContentMessage(fromPage({ source: CONTENT_SOURCE, type: 'graph-request', requestId: 'r2', request: { action: 'resume', dbName: 'db', key, breakpoints } }), window);
    expect(request({ interruptBefore: ['review'], interruptAfter: [] })?.type).toBe('graph-request');
    expect(request(undefined)?.type).toBe('graph-request');
    expect(request({ interruptBefore: [42], interruptAfter: [] })).toBeUndefined();
    expect(request({ interruptBefore: ['review'] })).toBeUndefined();
    expect(readContentMessage(fromPage({ source: CONTENT_SOURCE, type: 'graph-request', requestId: 'r3', request: { action: 'describe', dbName: 'db' } }), window)).toEqual({
      source: CONTENT_SOURCE,
      type: 'graph-request',
      requestId: 'r3',
      request: { action: 'describe', dbName: 'db' },
    });
  });
});
