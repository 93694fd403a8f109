/**
 * How the writes of a task are stored (`TaskWritesRecord`): the records for one call's writes, the writes back out
 * of records, and what a call adds to a task whose writes are stored already (a regular write keeps its first value).
 */
import type { StoredWriteRecord, TaskWritesRecord, WriteKey, WriteRecord } from './records.js';
import { prefixRange } from './requests.js';

/** The `idx` in the key of the record holding a task's regular writes. */
const TASK_WRITES_IDX = 0;

function isTaskWrites(record: StoredWriteRecord): record is TaskWritesRecord {
  return 'writes' in record;
}

/** Regular writes (`idx` 0 and up) keep their first value; special ones (errors, interrupts, ...) replace it. */
export function isRegular(write: { idx: number }): boolean {
  return write.idx >= 0;
}

export function recordKeyOf(record: StoredWriteRecord): WriteKey {
  return [record.thread_id, record.checkpoint_ns, record.checkpoint_id, record.task_id, record.idx];
}

const taskKeyOf = (write: WriteRecord) => JSON.stringify([write.thread_id, write.checkpoint_ns, write.checkpoint_id, write.task_id]);
const writeKeyOf = (write: StoredWriteRecord) => JSON.stringify(recordKeyOf(write));

/**
 * One task's regular writes as stored: one at `idx` 0 as it is, else one record of them all in `idx` order, the
 * first of each `idx` kept; undefined for none.
 */
function regularRecord(writes: WriteRecord[]): StoredWriteRecord | undefined {
  const byIdx = new Map<number, WriteRecord>();
  for (const write of writes) if (!byIdx.has(write.idx)) byIdx.set(write.idx, write);
  const kept = [...byIdx.values()].sort((a, b) => a.idx - b.idx);
  const [first] = kept;
  if (!first) return undefined;
  if (kept.length === 1 && first.idx === TASK_WRITES_IDX) return first;
  const { thread_id, checkpoint_ns, checkpoint_id, task_id, task_path } = first;
  return {
    thread_id,
    checkpoint_ns,
    checkpoint_id,
    task_id,
    idx: TASK_WRITES_IDX,
    task_path,
    writes: kept.map(({ idx, channel, value, of }) => (of ? { idx, channel, value, of } : { idx, channel, value })),
  };
}

/** The regular writes among `writes`, by task. */
function regularByTask(writes: WriteRecord[]): WriteRecord[][] {
  const tasks = new Map<string, WriteRecord[]>();
  for (const write of writes) if (isRegular(write)) tasks.set(taskKeyOf(write), [...(tasks.get(taskKeyOf(write)) ?? []), write]);
  return [...tasks.values()];
}

/** The records that store writes: special writes one each, each task's regular writes together. */
export function storedWrites(writes: WriteRecord[]): StoredWriteRecord[] {
  return [...writes.filter((write) => !isRegular(write)), ...regularByTask(writes).flatMap((task) => regularRecord(task) ?? [])];
}

/**
 * The writes records hold, each with its task's key and path, in the records' order. A regular write stored on its
 * own at an `idx` above 0 was stored by schema-5 code (one record per write); a task stored again since may hold the
 * same `idx` in its record of writes too, added there because the key check sees only `idx` 0. The one stored on its
 * own came first, and is the one read.
 */
export function writesIn(records: readonly StoredWriteRecord[]): WriteRecord[] {
  const storedAlone = new Set(records.filter((record) => !isTaskWrites(record) && record.idx > TASK_WRITES_IDX).map(writeKeyOf));
  return records.flatMap((record): WriteRecord[] => {
    if (!isTaskWrites(record)) return [record];
    const { writes, idx: _, ...task } = record;
    const all = writes.map((write) => ({ ...task, ...write }));
    return storedAlone.size === 0 ? all : all.filter((write) => !storedAlone.has(writeKeyOf(write)));
  });
}

/**
 * What is stored of one task's regular writes, as a batch that keeps first values sees it: the `idx` taken, and the
 * record under the task's key. Each call then stores only its writes at `idx` not taken, merged into that record.
 */
class StoredTask {
  readonly #taken = new Set<number>();
  #head: StoredWriteRecord | undefined;

  constructor(stored: readonly StoredWriteRecord[]) {
    for (const write of writesIn(stored)) if (isRegular(write)) this.#taken.add(write.idx);
    this.#head = stored.find((record) => record.idx === TASK_WRITES_IDX);
  }

  /** The record to store for a call's regular writes, or undefined when each of their `idx` is taken. */
  add(writes: WriteRecord[]): StoredWriteRecord | undefined {
    const added = writes.filter((write) => !this.#taken.has(write.idx));
    if (added.length === 0) return undefined;
    for (const write of added) this.#taken.add(write.idx);
    this.#head = regularRecord([...writesIn(this.#head ? [this.#head] : []), ...added]);
    return this.#head;
  }
}

/**
 * The tasks a batch that keeps first values writes, read (`read`) before it queues anything and followed as it does:
 * a deletion of a thread in the batch leaves its tasks with nothing stored.
 */
export class BatchTasks {
  readonly #byThread = new Map<string, Map<string, StoredTask>>();

  /** Reads, in `tx`, what is stored of the tasks that `writes` hold regular writes of; the last request, if any. */
  read(tx: IDBTransaction, writes: WriteRecord[]): IDBRequest | undefined {
    let last: IDBRequest | undefined;
    for (const [first] of regularByTask(writes)) {
      const { thread_id, checkpoint_ns, checkpoint_id, task_id } = first!;
      const request = tx.objectStore('writes').getAll(prefixRange([thread_id, checkpoint_ns, checkpoint_id, task_id]));
      request.onsuccess = () => this.#tasksOf(thread_id).set(taskKeyOf(first!), new StoredTask(request.result as StoredWriteRecord[]));
      last = request;
    }
    return last;
  }

  /** The records to store for `writes`: special writes as they are, each task's regular ones at `idx` not taken. */
  add(writes: WriteRecord[]): StoredWriteRecord[] {
    const regular = regularByTask(writes).flatMap((task) => this.#storedTask(task[0]!).add(task) ?? []);
    return [...writes.filter((write) => !isRegular(write)), ...regular];
  }

  deleteThread(thread_id: string): void {
    this.#byThread.set(thread_id, new Map());
  }

  #storedTask(write: WriteRecord): StoredTask {
    const tasks = this.#tasksOf(write.thread_id);
    let stored = tasks.get(taskKeyOf(write));
    if (!stored) tasks.set(taskKeyOf(write), (stored = new StoredTask([])));
    return stored;
  }

  #tasksOf(thread_id: string): Map<string, StoredTask> {
    let tasks = this.#byThread.get(thread_id);
    if (!tasks) this.#byThread.set(thread_id, (tasks = new Map()));
    return tasks;
  }
}
