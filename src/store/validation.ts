import { InvalidNamespaceError, validateNamespace } from '@langchain/langgraph-checkpoint';
import { CheckpointError } from '../errors.js';

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return `an instance of ${(value as object).constructor?.name ?? 'an unknown class'}`;
  return `${typeof value} ${String(value)}`;
}

/**
 * LangGraph's namespace rules (non-empty string labels without `.`, `:` or NUL; no `langgraph` root unless
 * allowed), reported as `INVALID_CONFIG`.
 */
export function checkNamespace(namespace: unknown, what: string, options: { allowEmpty?: boolean; allowReservedRoot?: boolean } = {}): string[] {
  if (!Array.isArray(namespace)) {
    throw new CheckpointError('INVALID_CONFIG', `The ${what} must be an array of strings, got ${describe(namespace)}.`);
  }
  try {
    validateNamespace(namespace, options);
  } catch (error) {
    if (!(error instanceof InvalidNamespaceError)) throw error;
    throw new CheckpointError('INVALID_CONFIG', `Invalid ${what} ${JSON.stringify(namespace)}: ${error.message}`, { cause: error });
  }
  return namespace as string[];
}

export function checkKey(key: unknown): string {
  if (typeof key !== 'string') throw new CheckpointError('INVALID_CONFIG', `An item key must be a string, got ${describe(key)}.`);
  return key;
}

export function checkCount(value: unknown, what: string, fallback: number, least = 0): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < least) {
    throw new CheckpointError('INVALID_CONFIG', `${what} must be an integer of at least ${least}, got ${describe(value)}.`);
  }
  return value;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function unstorable(path: string, problem: string): CheckpointError {
  return new CheckpointError(
    'SERIALIZE',
    `The item's value cannot be stored: ${path} ${problem}. Store values are JSON: objects, arrays, strings, finite numbers, booleans and null.`,
  );
}

function checkJson(value: unknown, path: string, ancestors: Set<object>): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw unstorable(path, `is ${value}`);
    return;
  }
  if (typeof value !== 'object') throw unstorable(path, `is a ${typeof value}`);
  if (ancestors.has(value)) throw unstorable(path, 'refers back to an object that contains it');
  ancestors.add(value);
  if (Array.isArray(value)) {
    value.forEach((element, i) => {
      if (element === undefined) throw unstorable(`${path}[${i}]`, 'is undefined');
      checkJson(element, `${path}[${i}]`, ancestors);
    });
  } else if (isPlainObject(value)) {
    // Undefined properties are allowed and read back as absent, as JSON would drop them.
    for (const [key, entry] of Object.entries(value)) if (entry !== undefined) checkJson(entry, `${path}.${key}`, ancestors);
  } else {
    throw unstorable(path, `is ${describe(value)}`);
  }
  ancestors.delete(value);
}

/** An item value must be a plain JSON object; anything else is a `SERIALIZE` error naming where it fails. */
export function checkValue(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !isPlainObject(value)) {
    throw new CheckpointError('SERIALIZE', `An item's value must be a plain object, got ${describe(value)}.`);
  }
  checkJson(value, 'value', new Set());
  return value as Record<string, unknown>;
}
