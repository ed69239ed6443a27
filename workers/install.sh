#!/bin/sh
# The worker image's install step (workers/Dockerfile runs it; tests/e2e/worker-image-recipe.test.ts
# runs it too, on a clean directory with only node and npm on PATH). Nothing is compiled:
#   - `--ignore-scripts`: node-llama-cpp's install script would otherwise look for a prebuilt binary
#     for this platform and, not finding one in the slim image, try to build llama.cpp from source
#     (which needs git, cmake and a compiler);
#   - `--omit=optional` drops node-llama-cpp's GPU and other-platform binaries (~600 MB), and with them
#     every other package's platform binary, so the ones needed are installed back at their locked
#     versions: esbuild's (tsx runs the TypeScript sources) and, with LOCAL_MODEL=1, node-llama-cpp's
#     prebuilt CPU binary. BullMQ's optional msgpackr-extract is only an accelerator (pure-JS fallback).
# Environment: TARGETARCH (amd64 | arm64, as BuildKit sets it; default amd64), LOCAL_MODEL (0 | 1).
set -eu
case "${TARGETARCH:-amd64}" in
  amd64) arch=x64 ;;
  arm64) arch=arm64 ;;
  *) echo "unsupported architecture ${TARGETARCH}" >&2; exit 1 ;;
esac
npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund
version_of() { node -p "require('./package-lock.json').packages['node_modules/$1'].version"; }
extra="@esbuild/linux-$arch@$(version_of esbuild)"
if [ "${LOCAL_MODEL:-0}" = "1" ]; then extra="$extra @node-llama-cpp/linux-$arch@$(version_of node-llama-cpp)"; fi
npm install --no-save --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund $extra
