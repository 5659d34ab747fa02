#!/usr/bin/env bash
# Sets up a fresh clone: Debian's clang and lld (they compile the WebAssembly SIMD kernels,
# scripts/build-simd-kernels.mjs) when missing, the npm dependencies, the build, and `gccs` on the
# PATH (scripts/link-cli.sh: npm link, which makes no bin link to a dist/cli.js not built yet).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang >/dev/null || ! command -v wasm-ld >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends clang lld
fi
npm ci --no-audit --no-fund
npm run build
scripts/link-cli.sh
