# Sourced by job-started.sh and job-completed.sh (the runner runs them with `bash -e`).
# Finds a node, runs dist/hook on it, and turns every failure of ours into a warning: a hook
# that exits non-zero fails the job, which only the operator's fail-below may ask for.
cargo_isolate_hook() {
  local which=$1 here node="" pid stat exe base v rc
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  if [ -n "${CARGO_ISOLATE_NODE:-}" ]; then
    node=$CARGO_ISOLATE_NODE
  else
    # The runner's own node: <runner>/bin/Runner.Worker (bin.<version>/ after an update) is an
    # ancestor, and its Node 24 lives in <runner>/externals/node24/bin/node (a runner too old to
    # have one has node20, which still runs the hooks, untested: docs/install.md).
    pid=$PPID
    while [ -z "$node" ] && [ "$pid" -gt 1 ] 2>/dev/null; do
      exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || break
      case $exe in
        */Runner.Worker)
          base=${exe%/*}; base=${base%/*}
          for v in node24 node20; do
            if [ -x "$base/externals/$v/bin/node" ]; then node=$base/externals/$v/bin/node; break; fi
          done
          [ -n "$node" ] || break ;;
      esac
      stat=$(<"/proc/$pid/stat") || break
      stat=${stat##*) }
      set -- $stat
      pid=$2
    done
    [ -n "$node" ] || node=$(command -v node 2>/dev/null) || true
  fi
  if [ -z "$node" ] || [ ! -x "$node" ]; then
    echo "::warning::cargo-isolate job-$which hook: no node found (set CARGO_ISOLATE_NODE in the runner's .env, or run the hook from the runner's own layout, which has node under externals/).$( [ "$which" = started ] && echo ' This job runs without isolation.')"
    return 0
  fi
  echo "cargo-isolate job-$which hook: $node"
  rc=0
  "$node" "$here/../dist/hook/index.js" "$which" || rc=$?
  if [ "$rc" -eq 3 ]; then return 1; fi
  if [ "$rc" -ne 0 ]; then
    echo "::warning::cargo-isolate job-$which hook: $node $here/../dist/hook/index.js exited with $rc. This job runs without isolation."
  fi
  return 0
}
