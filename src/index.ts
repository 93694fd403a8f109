export { BrowserSaver, type BrowserSaverOptions } from './saver/browser-saver.js';
export type { ListOptions } from './saver/stored-saver.js';
export { CheckpointError, type CheckpointErrorCode } from './errors.js';
export type { Durability } from './storage/checkpoint-store.js';
export { SCHEMA_VERSION } from './storage/schema.js';
export { installBrowserAsyncContext } from './runtime/browser-async-context.js';
export type { CheckpointChange, ChangeListener } from './storage/changes.js';
