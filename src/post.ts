import { run } from './post-impl.js';

await run();
