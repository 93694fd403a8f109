// juncture-browser/server: the sync endpoints (Node only; see docs/sync-protocol.md).
export { createSyncHandler, type SyncHandler, type SyncHandlerOptions, type SyncLimits } from './handler.js';
export type { SyncCorsOptions } from './cors.js';
export type { ListenConnection, ListenPool } from './live.js';
export { toNodeListener } from './node.js';
export { SyncedSaver, type SyncedSaverOptions } from './synced-saver.js';
export { setupSyncTables } from './tables.js';
export type * from '../wire/protocol.js';
export type { WireRecord, WireBytes, WireCheckpoint, WireBlob, WireWrite, WireTombstone, WirePrune, WireList } from '../wire/records.js';
