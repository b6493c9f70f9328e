// The version of this release, in one place.

/**
 * The release this code is, shown by `cargo-isolate --version`, `status`, the job summary, the
 * hooks' log and the metrics (`cargo_isolate_info`), so an operator sees which host runs which.
 * Equal to package.json's version (checked by __tests__/docs.test.ts, with CHANGELOG.md). Between
 * releases it is the next release's number with `-dev` (docs/releasing.md): a build of main never
 * passes for a release, and `--version` adds the commit it was built from.
 */
export const VERSION = '1.0.0-dev';

/** Pure: a release (`1.2.3`), as opposed to a build between releases (`1.3.0-dev`). */
export const isRelease = (version: string): boolean => /^\d+\.\d+\.\d+$/.test(version);

/**
 * Pure: what `--version` says: a release's number alone; a build between releases with the commit
 * it came from, as semver build metadata (`1.0.0-dev+d04863a`), when the commit is known.
 */
export function describeVersion(version: string, commit?: string): string {
  return isRelease(version) || !commit ? version : `${version}+${commit.slice(0, 7)}`;
}
