// Browser layer: real IndexedDB; interrupt() through the package's synchronous async context.
import { installBrowserAsyncContext } from '../../src/index.js';

installBrowserAsyncContext();
