// The runner's job hooks (hooks/job-started.sh, hooks/job-completed.sh), bundled into dist/hook.
import { runHook } from './hook-impl.js';

process.exitCode = await runHook(process.argv[2]);
