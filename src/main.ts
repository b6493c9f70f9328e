import { run } from './main-impl.js';

await run();
