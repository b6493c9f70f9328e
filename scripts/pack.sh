#!/usr/bin/env bash
# Builds the release tarball a fleet installs from (docs/install.md):
#   cargo-isolate-<version>/{bin,dist,hooks,docs/monitoring,package.json,README.md,CHANGELOG.md,COMMIT}
# from this checkout's committed bundles (no npm, no build on the hosts).
#   bash scripts/pack.sh [--out DIR]      (default: the current directory)
set -euo pipefail
out=.
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    *) echo "pack.sh: unknown argument '$1' (usage: bash scripts/pack.sh [--out DIR])" >&2; exit 2 ;;
  esac
done
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$(cd "$out" && pwd)
version=$(node -p 'require(process.argv[1]).version' "$repo/package.json")
# The bundles must be the version package.json names (a stale dist/ would install an older CLI);
# a build between releases (1.0.0-dev) says its commit too.
said=$(node -- "$repo/dist/cli/index.js" --version)
case $said in
  "cargo-isolate $version" | "cargo-isolate $version+"*) ;;
  *)
    echo "pack.sh: dist/cli says '$said' but package.json is $version: run 'npm run bundle' first" >&2
    exit 1
    ;;
esac
name=cargo-isolate-$version
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name/docs"
cp -R "$repo/bin" "$repo/dist" "$repo/hooks" "$stage/$name/"
cp -R "$repo/docs/monitoring" "$stage/$name/docs/"
cp "$repo/package.json" "$repo/README.md" "$repo/CHANGELOG.md" "$stage/$name/"
# The commit, for `cargo-isolate --version` of a build between releases: the install has no .git.
if commit=$(git -C "$repo" rev-parse HEAD 2>/dev/null); then echo "$commit" > "$stage/$name/COMMIT"; fi
# The action's bundles are not needed on a host, but a release is one tree: keep dist/ whole.
tar -C "$stage" --owner=0 --group=0 --numeric-owner -czf "$out/$name.tar.gz" "$name"
echo "$out/$name.tar.gz"
