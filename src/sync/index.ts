export { startSync, type SyncController, type SyncListener, type SyncOptions, type SyncState, type SyncStatus } from './client.js';
export type { SyncHeaders } from './transport.js';
