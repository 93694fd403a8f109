/**
 * What a saver remembers of a thread's latest checkpoints, per scope (a thread, then its namespace and more),
 * bounded: the least recently set scope is forgotten first.
 */
export class RecentByScope<V> {
  readonly #entries = new Map<string, V>();
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get(scope: readonly [thread_id: string, ...rest: string[]]): V | undefined {
    return this.#entries.get(JSON.stringify(scope));
  }

  set(scope: readonly [thread_id: string, ...rest: string[]], value: V): void {
    const key = JSON.stringify(scope);
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.#limit) this.#entries.delete(this.#entries.keys().next().value!);
  }

  delete(scope: readonly [thread_id: string, ...rest: string[]]): void {
    this.#entries.delete(JSON.stringify(scope));
  }

  /** Forgets every scope of the thread. */
  forgetThread(thread_id: string): void {
    for (const key of [...this.#entries.keys()]) if ((JSON.parse(key) as string[])[0] === thread_id) this.#entries.delete(key);
  }
}
