#!/bin/sh
# Container entrypoint: `worker` (the default) or any other persona-forge command, e.g. `run`.
# Workers take every setting from the environment (see docs/scale-out.md):
#   PF_REDIS_URL (required), OPENAI_BASE_URL, OPENAI_API_KEY, PF_WORKER_CONCURRENCY, PF_MAX_IN_FLIGHT,
#   PF_REQUESTS_PER_MINUTE, PF_TOKENS_PER_MINUTE, PF_KEY_PREFIX, PF_SHUTDOWN_GRACE_MS.
# The Redis URL stays in the environment, never on the command line (where `ps` would show its password).
set -eu
if [ "$#" -eq 0 ]; then set -- worker; fi
if [ "$1" = "worker" ] && [ -z "${PF_REDIS_URL:-}" ]; then
  echo "persona-forge worker: set PF_REDIS_URL, e.g. redis://redis:6379" >&2
  exit 2
fi
# exec: node receives SIGTERM itself, stops taking jobs and exits 0 once the running ones are done.
exec node "${0%/*}/../bin/persona-forge.js" "$@"
