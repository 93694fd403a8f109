import type { ChannelValue, CheckpointPage, DeltaHistory, StoredTuple, TuplePage, WriteOperation } from '../storage/storage.js';
import { isItemSlice } from '../storage/lists.js';
import type { BlobRecord, CheckpointRecord, StoredCheckpointRecord, TypedBytes, WriteRecord } from '../storage/records.js';

/** The buffers under a value's bytes, each once, for `Comlink.transfer`. */
class Buffers {
  readonly list: ArrayBuffer[] = [];
  readonly #seen = new Set<ArrayBufferLike>();

  add(typed: TypedBytes | null | undefined): void {
    this.bytes(typed?.bytes);
  }

  bytes(bytes: Uint8Array | undefined): void {
    const buffer = bytes?.buffer;
    if (!buffer || this.#seen.has(buffer) || !(buffer instanceof ArrayBuffer)) return;
    this.#seen.add(buffer);
    this.list.push(buffer);
  }

  checkpoint(record: CheckpointRecord | StoredCheckpointRecord): void {
    this.add(record.checkpoint);
    this.add(record.metadata);
    for (const entry of Object.values(record.metadata_entries ?? {})) this.add(entry);
    for (const value of Object.values(record.values ?? {})) this.add(value);
  }

  blobs(blobs: BlobRecord[]): void {
    for (const blob of blobs) {
      this.add(blob.value);
      for (const item of blob.list?.items ?? []) {
        if (isItemSlice(item)) this.bytes(item.insert);
        else this.add(item);
      }
    }
  }

  values(values: ChannelValue[]): void {
    for (const value of values) {
      if ('value' in value) this.add(value.value);
      else for (const item of value.items) this.add(item);
    }
  }

  writes(writes: WriteRecord[] | undefined): void {
    for (const write of writes ?? []) this.add(write.value);
  }
}

export function buffersOfOperation(operation: WriteOperation): ArrayBuffer[] {
  const buffers = new Buffers();
  if (operation.kind === 'checkpoint') {
    buffers.checkpoint(operation.checkpoint);
    buffers.blobs(operation.blobs);
    for (const sliced of operation.slicedItems ?? []) buffers.add(sliced.bytes);
  } else if (operation.kind === 'blobs') {
    buffers.blobs(operation.blobs);
  } else if (operation.kind === 'writes') {
    buffers.writes(operation.writes);
  }
  return buffers.list;
}

export function buffersOfTuples(tuples: (StoredTuple | undefined)[]): ArrayBuffer[] {
  const buffers = new Buffers();
  for (const tuple of tuples) {
    if (!tuple) continue;
    buffers.checkpoint(tuple.checkpoint);
    buffers.values(tuple.values);
    buffers.writes(tuple.writes);
    buffers.writes(tuple.parentSends);
  }
  return buffers.list;
}

export function buffersOfDeltaHistory(history: DeltaHistory): ArrayBuffer[] {
  const buffers = new Buffers();
  for (const ancestor of history.ancestors) buffers.writes(ancestor.writes);
  buffers.values(Object.values(history.seeds).map((seed) => seed.value));
  return buffers.list;
}

export function buffersOfPage(page: CheckpointPage): ArrayBuffer[] {
  const buffers = new Buffers();
  for (const record of page.records) buffers.checkpoint(record);
  return buffers.list;
}

export function buffersOfTuplePage(page: TuplePage): ArrayBuffer[] {
  return buffersOfTuples(page.tuples);
}
