#!/usr/bin/env bash
# Regenerate docs/digest-slack.png and docs/digest-discord.png: the `paperboy preview` page of a real day
# of the shared Daily Papers archive, photographed with headless Chromium from Debian's packages.
#
#   apt-get install -y chromium fonts-noto-color-emoji   # once, as root (the emoji font draws 🔥 💬 🧵)
#   bash docs/make_screenshots.sh [ARCHIVE_JSON]
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
archive="${1:-$root/../shared/data/hf-daily-papers/daily_papers_2025-11.json}"
python="${PYTHON:-$root/.venv/bin/python}"
chromium="${CHROMIUM:-chromium}"
command -v "$chromium" >/dev/null || { echo "needs chromium: apt-get install -y chromium" >&2; exit 1; }
[ -f "$archive" ] || { echo "no archive file $archive (pass one as the first argument)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PAPERBOY_DATA_DIR="$work/data" PAPERBOY_OFFLINE=true
"$python" -m paperboy ingest --file "$archive"
"$python" -m paperboy preview --at 2025-11-21T09:00Z \
    --topic 'moe OR "mixture of experts"' --topic 'agent -survey' --out "$work/preview.html"

for view in slack discord; do
    # The fragment picks one column (CSS :target); the window height crops the page to the first papers.
    timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
        --user-data-dir="$work/profile-$view" --window-size=900,1500 \
        --screenshot="$here/digest-$view.png" "file://$work/preview.html#$view" 2>"$work/chromium-$view.log" \
        || { cat "$work/chromium-$view.log" >&2; exit 1; }
    echo "wrote $here/digest-$view.png ($(stat -c %s "$here/digest-$view.png") bytes)"
done
