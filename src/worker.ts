// The package's worker entry (`juncture-browser/worker`): `new WorkerSaver()` and `new WorkerStore()` start it.
import { exposeJunctureStorage } from './worker/store-host.js';

exposeJunctureStorage();
