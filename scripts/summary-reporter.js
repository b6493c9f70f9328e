// Prints the closing line CI systems read ("N passed, N failed, N skipped") after jest's own,
// with the pace the run's hang guards were scaled by (scripts/lib/pace.mjs) on the line before.
import { currentPace } from './lib/pace.mjs';

export default class SummaryReporter {
  onRunComplete(_contexts, r) {
    process.stderr.write(
      `\npace: ${currentPace()} (measured at the start; hang guards scaled by it)\ntests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped\n`,
    );
  }
}
