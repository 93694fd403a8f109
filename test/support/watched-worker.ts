/**
 * The package's worker, with what the page posts to it seen first: `inspect` gets each message before it is posted
 * (transferred buffers are empty on this side afterwards).
 */
export function watchedWorker(inspect: (message: unknown) => void): Worker {
  const worker = new Worker(new URL('../../src/worker.ts', import.meta.url), { type: 'module' });
  const post = worker.postMessage.bind(worker) as (message: unknown, transfer?: Transferable[] | StructuredSerializeOptions) => void;
  worker.postMessage = (message: unknown, transfer?: Transferable[] | StructuredSerializeOptions) => {
    inspect(message);
    post(message, transfer);
  };
  return worker;
}

/** How many bytes a message carries in byte arrays, and in strings (a UTF-16 unit counted as one). */
export function payloadBytes(message: unknown): number {
  if (typeof message === 'string') return message.length;
  if (ArrayBuffer.isView(message) || message instanceof ArrayBuffer) return message.byteLength;
  if (Array.isArray(message)) return message.reduce((sum: number, item) => sum + payloadBytes(item), 0);
  if (typeof message === 'object' && message !== null) return Object.values(message).reduce((sum: number, item) => sum + payloadBytes(item), 0);
  return 0;
}
