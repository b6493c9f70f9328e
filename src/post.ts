// The action's post step (action.yml: runs.post), bundled into dist/post.
import { run } from './post-impl.js';

await run();
