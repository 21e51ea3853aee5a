#!/usr/bin/env bash
# Regenerates docs/weekly.png, the README's screenshot of the weekly HTML
# page: the sample trail's report rendered by Debian's headless Chromium
# (driven by playwright-core, as tests/browser.rs does), the top of the
# page at 1280 px. Needs node and /usr/bin/chromium (apt-get install
# chromium); installs playwright-core under target/test-data/npm if absent.
set -euo pipefail
cd "$(dirname "$0")/.."
npm_dir=target/test-data/npm
if [ ! -d "$npm_dir/node_modules/playwright-core" ]; then
  # The same packages as .ci/run: a --no-save install prunes what it omits.
  npm install --silent --no-save --no-audit --no-fund --prefix "$npm_dir" \
    @ip-location-db/geo-whois-asn-country-mmdb @ip-location-db/asn playwright-core
fi
page=$(mktemp --suffix=.html)
trap 'rm -f "$page"' EXIT
cargo run --quiet -- report --logs sample-logs --policy sample-logs/policy.toml \
  --format html -o "$page" -q || [ $? -eq 1 ]   # 1: the sample has findings
PLAYWRIGHT_CORE_DIR="$npm_dir/node_modules/playwright-core" \
  node tests/browser/check.mjs "$page" docs/weekly.png >/dev/null
echo "wrote docs/weekly.png"
