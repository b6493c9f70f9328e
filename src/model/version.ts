// The version of this release, in one place.

/**
 * The release this code is, shown by `cargo-isolate --version`, `status`, the job summary, the
 * hooks' log and the metrics (`cargo_isolate_info`), so an operator sees which host runs which.
 * Equal to package.json's version (checked by __tests__/docs.test.ts); bump both when releasing.
 */
export const VERSION = '0.1.0';
