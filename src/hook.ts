import { runHook } from './hooks.js';

process.exitCode = await runHook(process.argv[2]);
