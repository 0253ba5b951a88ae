#!/usr/bin/env bash
# The browser test of the web UI (ctest web_ui): installs playwright-core from tests/web/package-lock.json into
# WORK (npm ci, no browser download: the test drives Debian's /usr/bin/chromium), then runs ui.test.mjs against
# `sam3 serve` on the tiny model. Run from the repository root.
#   tests/web/run.sh <sam3 binary> <work dir>
set -euo pipefail
sam3=$(realpath "$1")
work=$(realpath -m "$2")
command -v node >/dev/null || { echo "web_ui: node is missing: run scripts/setup.sh --deps" >&2; exit 1; }
command -v npm >/dev/null || { echo "web_ui: npm is missing: run scripts/setup.sh --deps" >&2; exit 1; }
[ -x /usr/bin/chromium ] || { echo "web_ui: /usr/bin/chromium is missing: run scripts/setup.sh --deps" >&2; exit 1; }

mkdir -p "$work"
if ! cmp -s tests/web/package-lock.json "$work/package-lock.json" || [ ! -f "$work/node_modules/playwright-core/package.json" ]; then
  cp tests/web/package.json tests/web/package-lock.json "$work/"
  echo "web_ui: npm ci (playwright-core) in $work"
  (cd "$work" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

SAM3_BIN="$sam3" SAM3_WEB_WORK="$work" PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 node tests/web/ui.test.mjs
