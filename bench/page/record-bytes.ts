/**
 * The bytes a record holds, as its structured clone carries them: UTF-8 text of strings and property names,
 * 8 per number, the length of byte arrays, 1 per other primitive. Keys are part of the record (key paths),
 * so they are counted once; index entries are not counted.
 */
export function recordBytes(value: unknown): number {
  if (typeof value === 'string') return new TextEncoder().encode(value).byteLength;
  if (typeof value === 'number') return 8;
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (Array.isArray(value)) return value.reduce((sum: number, item: unknown) => sum + recordBytes(item), 0);
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).reduce((sum, [key, item]) => sum + recordBytes(key) + recordBytes(item), 0);
  }
  return 1;
}
