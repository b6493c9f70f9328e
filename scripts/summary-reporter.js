// Prints the closing line CI systems read ("N passed, N failed, N skipped") after jest's own,
// with the pace the run's hang guards were scaled by (scripts/lib/pace.mjs) on the line before.
import { currentPace } from './lib/pace.mjs';

export default class SummaryReporter {
  /**
   * @param {unknown} _contexts
   * @param {import('@jest/reporters').AggregatedResult} r
   */
  onRunComplete(_contexts, r) {
    const skipped = r.numPendingTests + r.numTodoTests;
    process.stderr.write(`\npace: ${currentPace()} (measured at the start; hang guards scaled by it)\n`);
    process.stderr.write(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped\n`);
  }
}
