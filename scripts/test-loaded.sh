#!/usr/bin/env bash
# The test suite on a machine that is busy and a Docker daemon that is shared, as CI hosts and
# laptops are: two busy processes per core (no nice) for the whole run, and an unrelated image on
# the daemon, newer than the base image and without `chown` in it (another project's image, say
# one built FROM scratch).
#
#   npm run test:loaded                       the whole suite (npm test)
#   npm run test:loaded -- __tests__/x.test.ts  some files (arguments go to jest)
#   bash scripts/test-loaded.sh --ci          CI itself (.ci/run) beside the same load
#
# LOADED_PER_CORE (default 2) busy processes per core. The daemon is shared: the image gets a
# name no one else has and is removed by that name at the end; nothing else on the daemon is
# touched. The busy processes are ended by their pids.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "test-loaded: $*" >&2; }

per_core=${LOADED_PER_CORE:-2}
cores=$(nproc)
busy=$((cores * per_core))

# The engine and its base image first (scripts/docker-env.sh is idempotent and takes a lock).
env_out=$(bash scripts/docker-env.sh)
DOCKER_HOST=$(sed -n 's/^DOCKER_HOST=//p' <<<"$env_out")
DOCKER=$(sed -n 's/^DOCKER=//p' <<<"$env_out")
export DOCKER_HOST

pids=()
image=""
work=$(mktemp -d)
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  # By its unique name only, and never forced: if a container of someone else's uses it, it stays.
  if [ -n "$image" ]; then "$DOCKER" image rm "$image" >/dev/null 2>&1 || log "could not remove $image (left on the daemon)"; fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# An image no test made or knows about: one file, no shell, no chown.
image="cargo-isolate-unrelated-$(hostname -s)-$$-$(date +%s)-$RANDOM:loaded"
mkdir "$work/rootfs" && echo "not a cargo-isolate image" > "$work/rootfs/README"
tar -C "$work/rootfs" -c . | "$DOCKER" import --change 'LABEL org.cargo-isolate.purpose=test-loaded' - "$image" >/dev/null
id=$("$DOCKER" image inspect -f '{{.Id}}' "$image" | cut -c8-19)
log "unrelated image $image ($id) on $DOCKER_HOST; the daemon holds $("$DOCKER" image ls -q | sort -u | wc -l) images"

for _ in $(seq 1 "$busy"); do
  sh -c 'while :; do :; done' &
  pids+=($!)
done
log "$busy busy processes ($per_core per core, $cores cores): ${pids[*]}; load average $(cut -d' ' -f1-3 /proc/loadavg)"

started=$(date +%s)
rc=0
if [ "${1:-}" = "--ci" ]; then
  shift
  CI=true bash .ci/run "$@" || rc=$?
else
  npm test -- "$@" || rc=$?
fi
log "finished with exit $rc in $(( $(date +%s) - started )) s beside $busy busy processes; load average $(cut -d' ' -f1-3 /proc/loadavg)"
exit "$rc"
