export { connectDevtools, type ConnectDevtoolsOptions, type InspectableSaver, type InspectableStore } from './hook.js';
export { createPageDataSource, type InspectedSaver } from './page-source.js';
export { createMemoryDataSource, parseThreadExport, type MemoryDataSource } from './memory-source.js';
export type { TimeTravelGraph } from './time-travel.js';
export type {
  Breakpoints,
  CheckpointDataSource,
  CheckpointDetail,
  CheckpointKey,
  CheckpointSummary,
  DatabaseSummary,
  GraphDescription,
  GraphEdgeView,
  GraphNodeView,
  HistoryQuery,
  JsonValue,
  PendingWriteView,
  SearchHit,
  StoreItemQuery,
  StoreItemView,
  ThreadExport,
  ThreadSummary,
} from './data-source.js';
