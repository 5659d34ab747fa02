#!/usr/bin/env bash
# Puts `gccs` on the PATH: `npm link` makes <npm global prefix>/bin/gccs a link to this clone's
# dist/cli.js (written by `npm run build`; `npm run main` builds). Nothing is downloaded and the
# clone's node_modules is not touched. A global prefix the user cannot write to (a system Node)
# gets the link through sudo, as scripts/setup.sh installs clang with it. Undo: `npm unlink -g gccs-lab`.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="$(npm prefix -g)"
SUDO=""
for dir in "$prefix/lib/node_modules" "$prefix/bin"; do
  existing="$dir"; while [ ! -e "$existing" ]; do existing="$(dirname "$existing")"; done
  [ -w "$existing" ] || { [ "$(id -u)" -eq 0 ] || SUDO="sudo"; }
done
$SUDO npm link --no-audit --no-fund --loglevel=error
case ":$PATH:" in
  *":$prefix/bin:"*) echo "gccs → $prefix/bin/gccs" ;;
  *) echo "gccs is in $prefix/bin, which is not on your PATH: add it, or run 'npx gccs' in this folder" ;;
esac
