import { currentPace } from './scripts/lib/pace.mjs';
import { prepareTestRun } from './scripts/lib/test-run.mjs';

// Once per run, in the parent: the pace of this machine right now and the run's own directory
// for copies other uids read (scripts/lib/test-run.mjs). Jest's timeout only guards against a
// hang, so it grows with the pace; no assertion does (__tests__/helpers/pace.ts).
prepareTestRun();

/** ESM jest: ts-jest transpiles only (tsc --noEmit type-checks separately, once). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/__tests__/**/*.test.ts'],
  testTimeout: Math.round(120_000 * currentPace()),
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/scripts/summary-reporter.js'],
};
