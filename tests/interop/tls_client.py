"""A wss:// client for tests/tls.rs, built on the `websockets` library.

    tls_client.py URI CAFILE

Trusts only the certificates in CAFILE (the test's CA). Sends a text, a
binary and a 1 MiB message and checks their echoes, pings, closes with 1000,
and prints one line per result.
"""

import ssl
import sys

from websockets.sync.client import connect


def main(uri, cafile):
    context = ssl.create_default_context(cafile=cafile)
    with connect(uri, ssl=context, open_timeout=10, close_timeout=10, max_size=None) as ws:
        print("tls", ws.socket.version(), flush=True)
        ws.send("héllo, wörld")
        print("text", ws.recv(timeout=10), flush=True)
        ws.send(b"\x00\x01\xff")
        print("binary", ws.recv(timeout=10).hex(), flush=True)
        large = bytes(range(256)) * 4096
        ws.send(large)
        echo = ws.recv(timeout=30)
        print("large", len(echo), "equal" if echo == large else "DIFFERENT", flush=True)
        if ws.ping(b"p").wait(10):
            print("pong", flush=True)
        ws.close(1000, "done")
        print("closed", ws.protocol.close_rcvd.code if ws.protocol.close_rcvd else None, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
