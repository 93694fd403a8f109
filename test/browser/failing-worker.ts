// A storage worker whose IndexedDB refuses every checkpoint of the thread "poison", as a broken disk would.
import { exposeCheckpointStorage } from '../../src/index.js';

const put = IDBObjectStore.prototype.put;
IDBObjectStore.prototype.put = function refusePoison(this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
  if (this.name === 'checkpoints' && (args[0] as { thread_id?: string }).thread_id === 'poison') {
    throw new DOMException('The disk refused this record.', 'UnknownError');
  }
  return put.apply(this, args);
};

exposeCheckpointStorage();
