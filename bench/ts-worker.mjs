// Entry of a bench worker thread that runs TypeScript: registers tsx's ESM loader in this
// thread, then imports workerData.entry (a file URL). Plain JS, so Node can start it as is.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
