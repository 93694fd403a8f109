/**
 * Whether a value is a Uint8Array from any realm. Firefox hands a content script the page's objects, whose
 * Uint8Array is not the content script's, so `instanceof` is false there.
 */
export function isByteArray(value: unknown): value is Uint8Array {
  return ArrayBuffer.isView(value) && Object.prototype.toString.call(value) === '[object Uint8Array]';
}
