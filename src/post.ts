import { runPost } from './post-impl.js';

await runPost();
