export { connectDevtools, type InspectableSaver } from './hook.js';
export { createPageDataSource } from './page-source.js';
export type {
  CheckpointDataSource,
  CheckpointDetail,
  CheckpointKey,
  CheckpointSummary,
  DatabaseSummary,
  HistoryQuery,
  JsonValue,
  PendingWriteView,
  ThreadSummary,
} from './data-source.js';
