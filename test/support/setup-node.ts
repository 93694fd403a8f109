// Node layer: fake-indexeddb in place of the browser's, and Node's own AsyncLocalStorage for interrupt().
import 'fake-indexeddb/auto';
import '@langchain/langgraph';
