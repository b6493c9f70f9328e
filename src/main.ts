// The action's main step (action.yml: runs.main), bundled into dist/main.
import { run } from './main-impl.js';

await run();
