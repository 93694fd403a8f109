// The package's worker entry (`juncture-browser/worker`): `new WorkerSaver()` starts it.
import { exposeCheckpointStorage } from './worker/storage-host.js';

exposeCheckpointStorage();
