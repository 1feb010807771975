#!/usr/bin/env bash
# The real-browser test: builds the chat example with permessage-deflate,
# starts it on 127.0.0.1:$PORT, and drives headless Chromium against it
# (chat_test.mjs). Needs node, npm and /usr/bin/chromium (or $CHROMIUM).
#
#   bash tests/browser/run.sh            # from the repository root or anywhere
#   PORT=18081 CHAT_SCREENSHOT=docs/chat.png bash tests/browser/run.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
PORT=${PORT:-18080}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export CHROMIUM
if [[ -n ${CHAT_SCREENSHOT:-} && $CHAT_SCREENSHOT != /* ]]; then
    export CHAT_SCREENSHOT=$ROOT/$CHAT_SCREENSHOT
fi

[[ -x $CHROMIUM ]] || { echo "browser test: $CHROMIUM is missing (apt-get install chromium)" >&2; exit 1; }
command -v node >/dev/null || { echo "browser test: node is missing" >&2; exit 1; }
"$CHROMIUM" --version 2>/dev/null || true
echo "node $(node --version)"

if [[ ! -d tests/browser/node_modules/playwright-core ]]; then
    (cd tests/browser && npm ci --no-audit --no-fund)
fi

cargo build --release --features deflate --example chat

LOG=$(mktemp)
target/release/examples/chat "127.0.0.1:$PORT" 2>"$LOG" &
SERVER=$!
cleanup() {
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    rm -f "$LOG"
}
trap cleanup EXIT

# Wait (at most 10 s) for the server to listen.
for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        break
    fi
    kill -0 "$SERVER" 2>/dev/null || { echo "browser test: the chat server exited" >&2; cat "$LOG" >&2; exit 1; }
    sleep 0.1
done

# The test's own closing line is held back and printed last, after the
# server's log.
OUT=$(mktemp)
status=0
CHAT_EXPECT_DEFLATE=1 node tests/browser/chat_test.mjs "http://127.0.0.1:$PORT/" >"$OUT" 2>&1 || status=$?
grep -v '^browser test:' "$OUT" || true
echo "# server log:"
sed 's/^/#   /' "$LOG"
summary=$(grep '^browser test:' "$OUT" | tail -n 1 || true)
rm -f "$OUT"
if [[ $status -eq 0 ]] && ! grep -q "permessage-deflate negotiated" "$LOG"; then
    echo "not ok - the server log does not show permessage-deflate negotiated"
    summary="browser test: (all page checks passed), 1 failed"
    status=1
fi
echo "${summary:-browser test: 0 passed, 1 failed (exit $status)}"
exit "$status"
