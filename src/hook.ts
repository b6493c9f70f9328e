import { runHook } from './hook-impl.js';

process.exitCode = await runHook(process.argv[2]);
