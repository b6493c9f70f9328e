// The fleet store's worker (store/fleet-worker.ts starts it for each call), bundled into dist/fleet-worker.
import { runWorker } from './fleet-worker-impl.js';

process.exitCode = await runWorker(process.argv[2]);
