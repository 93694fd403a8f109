import { AsyncLocalStorageProviderSingleton } from '@langchain/core/singletons';

/**
 * An AsyncLocalStorage stand-in whose store lives only for the synchronous part of each `run`.
 *
 * Browsers have no AsyncLocalStorage. LangGraph reads a node's config from one when the node calls
 * `interrupt()` or `getConfig()`. Keeping a store until a run's promise settles would leak it into whatever
 * else runs meanwhile (parallel tasks interleave), handing one task's config to another. A store scoped to
 * the synchronous call is exact until the node's first `await`; after it there is no store, and LangGraph
 * throws "outside the context of a graph" instead of doing the wrong thing quietly.
 */
class SynchronousContextStorage {
  #store: unknown = undefined;

  getStore(): unknown {
    return this.#store;
  }

  run<R>(store: unknown, callback: (...args: unknown[]) => R, ...args: unknown[]): R {
    const previous = this.#store;
    this.#store = store;
    try {
      return callback(...args);
    } finally {
      this.#store = previous;
    }
  }

  enterWith(store: unknown): void {
    this.#store = store;
  }
}

/**
 * Lets LangGraph.js graphs call `interrupt()` (and `getConfig()`) in the browser. Call it once before running
 * a graph imported from `@langchain/langgraph/web`.
 *
 * The one rule: call `interrupt()` before the node's first `await`. After an `await` it throws
 * "Called interrupt() outside the context of a graph." — loudly, never silently wrong.
 *
 * Returns false when an AsyncLocalStorage is already installed (Node, or an earlier call); it is kept.
 */
export function installBrowserAsyncContext(): boolean {
  const storage = new SynchronousContextStorage();
  AsyncLocalStorageProviderSingleton.initializeGlobalInstance(storage as never);
  return AsyncLocalStorageProviderSingleton.getInstance() === (storage as never);
}
