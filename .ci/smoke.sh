#!/usr/bin/env bash
# Runs dist/main and dist/post with the runner's file-command protocol, outside jest, and
# checks the exports. Uses whatever `node` is first on PATH (Node 24 in .ci/run).
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for f in env output state path summary; do : > "$work/$f"; done
echo '{}' > "$work/event.json"
export GITHUB_ENV="$work/env" GITHUB_OUTPUT="$work/output" GITHUB_STATE="$work/state" GITHUB_PATH="$work/path" GITHUB_STEP_SUMMARY="$work/summary"
export GITHUB_REPOSITORY=smoke/test GITHUB_REF=refs/heads/main GITHUB_REF_NAME=main GITHUB_RUN_ID=1 GITHUB_JOB=smoke GITHUB_EVENT_PATH="$work/event.json"
export INPUT_ROOT="$work/root"
node dist/main/index.js
grep -q "^CARGO_TARGET_DIR<<" "$work/env"
grep -q "$work/root/slots/s000/target" "$work/env"
grep -q "^slot<<" "$work/output"
# The runner hands each saved state to post as STATE_<name>; the last value of a name wins.
eval "$(node -e '
  const t = require("fs").readFileSync(process.argv[1], "utf8").split("\n"); const s = {};
  for (let i = 0; i < t.length; i++) { const m = /^([^<]+)<<(.+)$/.exec(t[i]); if (!m) continue;
    const v = []; for (i++; t[i] !== m[2]; i++) v.push(t[i]); s[m[1]] = v.join("\n"); }
  for (const [k, v] of Object.entries(s)) console.log(`export STATE_${k}=${JSON.stringify(v)}`);
' "$work/state")"
node dist/post/index.js
grep -q "cargo-isolate" "$work/summary"
bin/cargo-isolate status --root "$work/root"
# The runner job hooks on the same node, with fresh file-command files and their own RUNNER_TEMP.
mkdir -p "$work/hook-temp" && for f in env path summary; do : > "$work/hook-$f"; done
GITHUB_ENV="$work/hook-env" GITHUB_PATH="$work/hook-path" RUNNER_TEMP="$work/hook-temp" CARGO_ISOLATE_ROOT="$work/hook-root" bash -e hooks/job-started.sh
grep -q "^CARGO_TARGET_DIR<<" "$work/hook-env"
grep -q "$work/hook-root/slots/s000/target" "$work/hook-env"
: > "$work/hook-env"
GITHUB_ENV="$work/hook-env" GITHUB_STEP_SUMMARY="$work/hook-summary" RUNNER_TEMP="$work/hook-temp" CARGO_ISOLATE_ROOT="$work/hook-root" bash -e hooks/job-completed.sh
grep -q "lease released" "$work/hook-summary"
echo "smoke: ok"
