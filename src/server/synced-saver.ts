/**
 * `SyncedSaver`: the checkpointer of a server agent that continues threads of devices. It is the server's saver
 * (PostgresSaver, say) with every write also recorded in sync's tables, so devices pull what the agent did.
 */
import type { RunnableConfig } from '@langchain/core/runnables';
import {
  BaseCheckpointSaver,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointListOptions,
  type CheckpointMetadata,
  type CheckpointTuple,
  type PendingWrite,
} from '@langchain/langgraph-checkpoint';
import type { Pool } from 'pg';
import { CheckpointError } from '../errors.js';
import type { DataRecord } from '../wire/records.js';
import { NO_REMOVALS, RecordStore, recordRow } from './record-store.js';
import { tableNames } from './tables.js';
import { checkpointRecords, writeRecords } from './values.js';

export interface SyncedSaverOptions {
  /** The pool of sync's tables, as given to `createSyncHandler`. */
  pool: Pool;
  /** Their schema, as given to `createSyncHandler`. Default `public`. */
  schema?: string;
  /**
   * The user a thread nobody pushed yet is given to when the agent writes it first. Without it, writing such a
   * thread fails with `NOT_FOUND`: a device pushes threads before an agent continues them.
   */
  ownerOf?: (threadId: string) => string | undefined | Promise<string | undefined>;
}

function threadOf(config: RunnableConfig, action: string): string {
  const thread_id = config.configurable?.['thread_id'];
  if (typeof thread_id !== 'string' || thread_id === '') throw new CheckpointError('INVALID_CONFIG', `${action}: config.configurable.thread_id must be a non-empty string.`);
  return thread_id;
}

export class SyncedSaver extends BaseCheckpointSaver {
  readonly saver: BaseCheckpointSaver;
  readonly #store: RecordStore;
  readonly #ownerOf: SyncedSaverOptions['ownerOf'];

  constructor(saver: BaseCheckpointSaver, options: SyncedSaverOptions) {
    super(saver.serde);
    if (saver instanceof SyncedSaver) throw new CheckpointError('INVALID_CONFIG', 'SyncedSaver: the saver is already a SyncedSaver.');
    this.saver = saver;
    this.#store = new RecordStore(options.pool, tableNames(options.schema ?? 'public'));
    this.#ownerOf = options.ownerOf;
  }

  getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    return this.saver.getTuple(config);
  }

  list(config: RunnableConfig, options?: CheckpointListOptions): AsyncGenerator<CheckpointTuple> {
    return this.saver.list(config, options);
  }

  /**
   * Versions as the browser savers make them, whole numbers plus a random fraction: both sides keep increasing
   * one channel's versions, and two branches forked from one checkpoint never write the same version.
   */
  override getNextVersion(current: number | undefined): number {
    const whole = typeof current === 'number' && Number.isFinite(current) ? Math.floor(current) : 0;
    return whole + 1 + Math.random();
  }

  async put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, newVersions: ChannelVersions): Promise<RunnableConfig> {
    const thread_id = threadOf(config, 'put');
    const userId = await this.#writer(thread_id);
    const stored = await this.saver.put(config, checkpoint, metadata, newVersions);
    const parent = config.configurable?.['checkpoint_id'];
    const records = await checkpointRecords(
      this.serde,
      { thread_id, checkpoint_ns: String(config.configurable?.['checkpoint_ns'] ?? ''), ...(typeof parent === 'string' ? { parent } : {}) },
      checkpoint,
      metadata,
      newVersions ?? checkpoint.channel_versions,
    );
    await this.#record(userId, thread_id, records);
    return stored;
  }

  async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath = ''): Promise<void> {
    const thread_id = threadOf(config, 'putWrites');
    const userId = await this.#writer(thread_id);
    await this.saver.putWrites(config, writes, taskId, taskPath);
    const scope = { thread_id, checkpoint_ns: String(config.configurable?.['checkpoint_ns'] ?? ''), checkpoint_id: String(config.configurable?.['checkpoint_id']) };
    await this.#record(userId, thread_id, await writeRecords(this.serde, scope, writes, taskId, taskPath));
  }

  /** Deletes the thread here and, as a tombstone, on every device. */
  async deleteThread(threadId: string): Promise<void> {
    const states = await this.#store.threads([threadId]);
    const owner = states.get(threadId)?.owner;
    if (owner !== undefined) await this.#store.commit(owner, [], { ...NO_REMOVALS, threads: [threadId] }, null);
    await this.saver.deleteThread(threadId);
  }

  /** The owner of a thread the agent may write; claims it for `ownerOf` when nobody pushed it yet. */
  async #writer(thread_id: string): Promise<string> {
    const state = (await this.#store.threads([thread_id])).get(thread_id);
    if (state?.deleted) throw new CheckpointError('NOT_FOUND', `Thread "${thread_id}" was deleted; it takes no new checkpoints.`);
    if (state) return state.owner;
    const owner = await this.#ownerOf?.(thread_id);
    if (owner === undefined) {
      throw new CheckpointError('NOT_FOUND', `Thread "${thread_id}" belongs to nobody yet: a device pushes it first, or pass ownerOf to SyncedSaver.`);
    }
    const foreign = await this.#store.claim(owner, [thread_id]);
    if (foreign.length > 0) return this.#writer(thread_id);
    return owner;
  }

  async #record(userId: string, thread_id: string, records: DataRecord[]): Promise<void> {
    const rows = records.map((record) => recordRow(record));
    const { deletedThreads } = await this.#store.commit(userId, rows, NO_REMOVALS, null);
    if (deletedThreads.includes(thread_id)) {
      // Deleted by a device while this write went to the saver: it must not stay there either.
      await this.saver.deleteThread(thread_id);
      throw new CheckpointError('NOT_FOUND', `Thread "${thread_id}" was deleted; it takes no new checkpoints.`);
    }
  }
}
