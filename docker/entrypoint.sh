#!/bin/sh
# Container entrypoint: `entrypoint.sh <service|migrate> [node args...]`.
#
#   api | scraper | embedder | aggregator | maintenance   run that service
#   migrate                                               apply database migrations, then exit
#   anything else                                         run it as a command (e.g. `sh` to debug)
#
# `exec` replaces the shell, so SIGTERM from tini (PID 1) reaches node itself
# and the service's ShutdownManager drains its jobs within
# KBFLOW_SHUTDOWN_TIMEOUT_MS.
set -eu

# The application root is the directory above this script (/app in the image).
cd "$(dirname "$0")/.."

if [ $# -eq 0 ]; then
  echo "usage: entrypoint.sh <api|scraper|embedder|aggregator|maintenance|migrate> [args...]" >&2
  exit 64
fi

target=$1
shift
case "$target" in
  api|scraper|embedder|aggregator|maintenance)
    # shellcheck disable=SC2046 # the flags are words, one per item
    exec node $(grep -v '^#' config/service-node-flags) "services/$target/src/main.ts" "$@"
    ;;
  migrate)
    exec node packages/db/src/migrate.cli.ts "$@"
    ;;
  *)
    exec "$target" "$@"
    ;;
esac
