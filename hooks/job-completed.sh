#!/usr/bin/env bash
# cargo-isolate: ACTIONS_RUNNER_HOOK_JOB_COMPLETED=<this file> in the runner's .env (docs/runner-hooks.md).
. "$(dirname "${BASH_SOURCE[0]}")/run.sh"
cargo_isolate_hook completed
