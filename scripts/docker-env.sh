#!/usr/bin/env bash
# A real Docker engine for the container tests, set up the way FIELD-NOTES measured it:
# Debian's docker.io, a private daemon that leaves the host's network alone (no iptables, no
# bridge: containers use --network none or host), and a base image built offline with
# debootstrap from apt's own mirror, then `docker import`. Idempotent: a second run reuses the
# running daemon and the image kept in its data root (the first run takes about 2 minutes).
#
# Prints `DOCKER_HOST=...` and `IMAGE=...` on stdout; everything else goes to stderr.
set -euo pipefail
DATA=${CARGO_ISOLATE_DOCKER_DATA:-/var/lib/cargo-isolate-test-docker}
SOCK=${CARGO_ISOLATE_DOCKER_SOCK:-/run/cargo-isolate-test-docker.sock}
IMAGE=cargo-isolate-test-base:bookworm
export DOCKER_HOST="unix://$SOCK"
log() { echo "docker-env: $*" >&2; }
[ "$(id -u)" = 0 ] || { log "must run as root (dockerd, debootstrap)"; exit 1; }

# Jest runs the container suites in parallel workers, each calling this script: without a lock two
# of them start two daemons on one data root, or import the image twice (the second import leaves
# an untagged copy behind), or run apt-get at once on a fresh machine, where the second one fails
# on dpkg's lock. One caller at a time sets up; the others then find everything ready.
mkdir -p "$(dirname "$DATA")"
exec 9>"${DATA}.setup.lock"
flock 9

if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
  log "installing docker.io and debootstrap from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt_install=(apt-get install -y --no-install-recommends docker.io debootstrap)
  "${apt_install[@]}" >&2 || { apt-get update >&2 && "${apt_install[@]}" >&2; }
fi

# The client first on PATH may be a newer one than the daemon; Debian's matches it
# (found after the install: on a fresh machine it is not there before).
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=$(command -v docker)

if ! "$DOCKER" version >/dev/null 2>&1; then
  mkdir -p "$DATA"
  log "starting dockerd (data root $DATA, socket $SOCK)"
  # setsid: the daemon outlives this script and the test run that started it.
  setsid dockerd --data-root "$DATA" --host "$DOCKER_HOST" --pidfile "$DATA.pid" --exec-root "/run/cargo-isolate-test-docker" \
    --storage-driver overlay2 --iptables=false --ip-forward=false --ip-masq=false --bridge=none \
    >"$DATA.log" 2>&1 < /dev/null 9>&- &
  dockerd_pid=$!
  # Ready when it answers, which a busy machine can make slow: the wait ends when it answers or
  # exits, with 5 minutes as the guard against a hang.
  for _ in $(seq 1 1500); do "$DOCKER" version >/dev/null 2>&1 && break; kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.2; done
  "$DOCKER" version >/dev/null 2>&1 || { log "dockerd did not start:"; tail -20 "$DATA.log" >&2; exit 1; }
fi

if ! "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
  mirror=$(grep -hoE '^(URIs:|deb) +https?://[^ ]+' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
    grep -v security | head -n1 | awk '{print $2}' || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  rootfs=$(mktemp -d /var/tmp/cargo-isolate-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  log "building $IMAGE with debootstrap from $mirror (about 2 minutes, once per machine)"
  debootstrap --variant=minbase --include=gcc,libc6-dev bookworm "$rootfs" "$mirror" >&2
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb
  tar -C "$rootfs" -c . | "$DOCKER" import - "$IMAGE" >&2
fi
echo "DOCKER_HOST=$DOCKER_HOST"
echo "DOCKER=$DOCKER"
echo "IMAGE=$IMAGE"
