// Prints the closing line CI systems read ("N passed, N failed, N skipped") after jest's own.
export default class SummaryReporter {
  onRunComplete(_contexts, r) {
    process.stderr.write(`\ntests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped\n`);
  }
}
