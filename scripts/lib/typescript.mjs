// `node --import ./scripts/lib/typescript.mjs FILE.ts`: runs the simulator, the bench and the
// other scripts that import src/ as they are, TypeScript importing TypeScript by `.js` names.
//
// Why a loader and not a build step: the scripts then import src/ by its module paths (so tsc,
// ESLint and an import graph see `scripts/sim -> src/pool/policy.ts`), nothing is compiled into a
// directory that can go stale, and a run starts in about a second. Why not Node's own type
// stripping: CI runs Node 24, which has it, but this machine's default node is 20, which does
// not, and neither maps a `.js` import to its `.ts` file; transpiling with the project's
// TypeScript behaves the same on both. Jest does not use this: ts-jest transpiles the same files
// for the tests (jest.config.js maps `.js` imports to `.ts` the same way).
import { register } from 'node:module';

register('./typescript-hooks.mjs', import.meta.url);
