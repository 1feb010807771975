"""A peer for tests/deflate_interop.rs, built on the `websockets` library,
with permessage-deflate on.

    deflate_peer.py client URI [BITS]   connect (offering the library's default
                                        permessage-deflate, or with BITS,
                                        server_max_window_bits=BITS and
                                        client_max_window_bits=BITS), send
                                        messages, check each echo; print the
                                        agreed extension, then "ok"
    deflate_peer.py server              serve on 127.0.0.1, an ephemeral port,
                                        printed first; echo every message
"""

import sys

from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.sync.client import connect
from websockets.sync.server import serve

MAX_SIZE = 16 * 1024 * 1024


def json_like(n):
    out = []
    size = 0
    i = 0
    while size < n:
        item = '{"id":%d,"name":"user%d","active":%s},' % (i, i * 7919 % 1000, "true" if i % 3 == 0 else "false")
        out.append(item)
        size += len(item)
        i += 1
    return ("[" + "".join(out))[:n]


def messages():
    yield "hello"
    yield "Hello, permessage-deflate! " * 10
    yield bytes(range(256)) * 4
    yield json_like(1 << 20)
    yield json_like(1 << 20).encode()
    yield ""
    yield "done"


def client(uri, bits=None):
    if bits is None:
        options = {}  # compression="deflate": the library's own offer
    else:
        factory = ClientPerMessageDeflateFactory(
            server_max_window_bits=bits, client_max_window_bits=bits
        )
        options = {"compression": None, "extensions": [factory]}
    with connect(uri, max_size=MAX_SIZE, open_timeout=10, close_timeout=10, **options) as ws:
        agreed = ws.response.headers.get("Sec-WebSocket-Extensions")
        for message in messages():
            ws.send(message)
            echo = ws.recv(timeout=10)
            if echo != message:
                sys.exit(f"echo differs for a {type(message).__name__} of {len(message)}")
        print("extensions", agreed, flush=True)
    print("ok", flush=True)


def server():
    def echo(ws):
        for message in ws:
            ws.send(message)

    with serve(echo, "127.0.0.1", 0, max_size=MAX_SIZE, open_timeout=10, close_timeout=10) as srv:
        print(srv.socket.getsockname()[1], flush=True)
        srv.serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "client":
        client(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else None)
    else:
        server()
