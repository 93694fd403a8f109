/**
 * What a saver remembers of a thread's latest checkpoints, per scope (a thread, then its namespace and more),
 * bounded: the least recently set scope is forgotten first, once there are more than `limit` of them or, when
 * entries are weighed (their bytes, say), once their weights add up to more than `maxWeight`.
 */
export class RecentByScope<V> {
  readonly #entries = new Map<string, { value: V; weight: number }>();
  readonly #limit: number;
  readonly #maxWeight: number;
  #weight = 0;

  constructor(limit: number, maxWeight = Infinity) {
    this.#limit = limit;
    this.#maxWeight = maxWeight;
  }

  get(scope: readonly [thread_id: string, ...rest: string[]]): V | undefined {
    return this.#entries.get(JSON.stringify(scope))?.value;
  }

  /** Sets the scope's value as the most recent; a value set again keeps the weight it had. */
  set(scope: readonly [thread_id: string, ...rest: string[]], value: V): void {
    const key = JSON.stringify(scope);
    const weight = this.#entries.get(key)?.weight ?? 0;
    this.#entries.delete(key);
    this.#entries.set(key, { value, weight });
    this.#evict();
  }

  /** Adds to the weight of the scope's entry, if it is still remembered. */
  addWeight(scope: readonly [thread_id: string, ...rest: string[]], weight: number): void {
    const entry = this.#entries.get(JSON.stringify(scope));
    if (!entry) return;
    entry.weight += weight;
    this.#weight += weight;
    this.#evict();
  }

  delete(scope: readonly [thread_id: string, ...rest: string[]]): void {
    this.#remove(JSON.stringify(scope));
  }

  /** Forgets every scope of the thread. */
  forgetThread(thread_id: string): void {
    for (const key of [...this.#entries.keys()]) if ((JSON.parse(key) as string[])[0] === thread_id) this.#remove(key);
  }

  #remove(key: string): void {
    this.#weight -= this.#entries.get(key)?.weight ?? 0;
    this.#entries.delete(key);
  }

  #evict(): void {
    while (this.#entries.size > this.#limit || (this.#weight > this.#maxWeight && this.#entries.size > 0)) this.#remove(this.#entries.keys().next().value!);
  }
}
