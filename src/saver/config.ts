import type { RunnableConfig } from '@langchain/core/runnables';
import { CheckpointError } from '../errors.js';

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `"${value}"` : `a ${typeof value}`;
}

function configurableOf(config: RunnableConfig | undefined, action: string): Record<string, unknown> {
  const configurable = config?.configurable;
  if (typeof configurable !== 'object' || configurable === null) {
    throw new CheckpointError(
      'INVALID_CONFIG',
      `${action}: the config has no "configurable" object; pass { configurable: { thread_id: "..." } }.`,
    );
  }
  return configurable;
}

/** A required, non-empty string id under `configurable`. */
export function requireId(config: RunnableConfig | undefined, key: string, action: string): string {
  const value = configurableOf(config, action)[key];
  if (typeof value !== 'string' || value === '') {
    throw new CheckpointError(
      'INVALID_CONFIG',
      `${action}: config.configurable.${key} must be a non-empty string, got ${value === undefined ? 'nothing' : describe(value)}.`,
    );
  }
  return value;
}

/** An optional string id under `configurable`; `thread_ts` is the legacy name of `checkpoint_id`. */
export function optionalId(config: RunnableConfig | undefined, key: string, action: string): string | undefined {
  const configurable = config?.configurable;
  if (!configurable) return undefined;
  let value = configurable[key];
  if ((value === undefined || value === '') && key === 'checkpoint_id') value = configurable['thread_ts'];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new CheckpointError('INVALID_CONFIG', `${action}: config.configurable.${key} must be a string, got ${describe(value)}.`);
  }
  return value;
}

/** The namespace, `''` (the root graph) when absent. */
export function namespaceOf(config: RunnableConfig | undefined, action: string): string {
  const value = config?.configurable?.['checkpoint_ns'];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') {
    throw new CheckpointError('INVALID_CONFIG', `${action}: config.configurable.checkpoint_ns must be a string, got ${describe(value)}.`);
  }
  return value;
}

export function requireString(value: unknown, name: string, action: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new CheckpointError('INVALID_CONFIG', `${action}: ${name} must be a non-empty string, got ${value === undefined ? 'nothing' : describe(value)}.`);
  }
  return value;
}
