#!/usr/bin/env bash
# Does Chromium open `new WebSocket("wss://...")` as an HTTP/2 extended
# CONNECT (RFC 8441) when the page's origin already has an HTTP/2
# connection that enabled it? Starts wsproto-tokio's `h2_echo` example with
# TLS (a certificate made here for 127.0.0.1), loads its page at `/` in
# headless Chromium (the page opens a WebSocket to `/browser` on its own
# origin and shows the echo), and reads the server's log:
#
# - by default, Chromium must reuse the page's HTTP/2 connection:
#   `websocket HTTP/2.0 CONNECT /browser` (no switch is needed; Chromium
#   only tries it for wss:// without a proxy, on a connection whose server
#   sent SETTINGS_ENABLE_CONNECT_PROTOCOL);
# - with `--disable-http2`, the control: the same page, an HTTP/1.1 upgrade
#   (`websocket HTTP/1.1 GET /browser`), so the first check can fail;
# - the same WebSocket from a page of another origin (a file), when there
#   is no HTTP/2 connection to reuse: Chromium does not open one for a
#   WebSocket, it upgrades over HTTP/1.1.
#
# Needs /usr/bin/chromium (or $CHROMIUM), openssl, curl, and node with
# playwright-core (npm, pinned in tests/browser/package-lock.json).
#
#   bash tests/browser/h2_run.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
PORT=${PORT:-18453}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[[ -x $CHROMIUM ]] || { echo "h2 browser test: $CHROMIUM is missing" >&2; exit 1; }
"$CHROMIUM" --version 2>/dev/null || true
command -v node >/dev/null || { echo "h2 browser test: node is missing" >&2; exit 1; }
if [[ ! -d tests/browser/node_modules/playwright-core ]]; then
    (cd tests/browser && npm ci --no-audit --no-fund)
fi

cargo build --release -p wsproto-tokio --features hyper,http2,rustls --example h2_echo
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/examples/h2_echo

WORK=$(mktemp -d)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -addext basicConstraints=critical,CA:FALSE -addext extendedKeyUsage=serverAuth \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
"$BIN" "127.0.0.1:$PORT" --cert "$WORK/cert.pem" --key "$WORK/key.pem" >"$WORK/server.log" 2>&1 &
SERVER=$!
cleanup() {
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
done

# browse NAME URL [SWITCH...]: loads URL in headless Chromium
# (h2_test.mjs), which waits for the page's echo; its verdict is NAME.ok.
browse() {
    local name=$1
    shift
    if timeout 60 node tests/browser/h2_test.mjs "$@"; then
        : >"$WORK/$name.ok"
    fi
}

status=0
# check NAME VERSION METHOD: the page saw its echo, and the server took
# the page's WebSocket over VERSION with METHOD (in the log since the
# browser started: from line $FROM).
check() {
    if [[ ! -e $WORK/$1.ok ]]; then
        echo "not ok - $1: the page did not get its echo"
        status=1
    fi
    if tail -n "+$FROM" "$WORK/server.log" | grep -q "^websocket $2 $3 /browser$"; then
        echo "ok - $1: the WebSocket came as $2 $3"
    else
        echo "not ok - $1: no \"websocket $2 $3 /browser\" in the server's log"
        status=1
    fi
}

FROM=1
browse h2 "https://127.0.0.1:$PORT/"
check h2 HTTP/2.0 CONNECT
FROM=$(($(wc -l <"$WORK/server.log") + 1))
browse http1 "https://127.0.0.1:$PORT/" --disable-http2
check http1 HTTP/1.1 GET
# The server's page, but from a file: its WebSocket has no HTTP/2
# connection to the server to ride on.
curl --silent --insecure --http1.1 "https://127.0.0.1:$PORT/" |
    sed "s|\${scheme}://\${location.host}|wss://127.0.0.1:$PORT|" >"$WORK/other-origin.html"
FROM=$(($(wc -l <"$WORK/server.log") + 1))
browse elsewhere "file://$WORK/other-origin.html"
check elsewhere HTTP/1.1 GET
echo "# server log:"
sed 's/^/#   /' "$WORK/server.log"
exit "$status"
