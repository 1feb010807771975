"""A peer for tests/handshake_interop.rs, built on the `websockets` library.

    ws_peer.py client URI PROTOCOL   connect offering PROTOCOL (and "other"),
                                     check it was chosen, close, print "ok"
    ws_peer.py server PROTOCOL       serve on 127.0.0.1, an ephemeral port,
                                     printed first; echo every message
"""

import sys

from websockets.sync.client import connect
from websockets.sync.server import serve


def client(uri, protocol):
    with connect(
        uri,
        subprotocols=[protocol, "other"],
        additional_headers={"X-Interop": "yes"},
        open_timeout=10,
        close_timeout=10,
    ) as ws:
        if ws.subprotocol != protocol:
            sys.exit(f"subprotocol {ws.subprotocol!r}, expected {protocol!r}")
        print("subprotocol", ws.subprotocol, flush=True)
    print("ok", flush=True)


def server(protocol):
    def echo(ws):
        for message in ws:
            ws.send(message)

    with serve(echo, "127.0.0.1", 0, subprotocols=[protocol], open_timeout=10, close_timeout=10) as srv:
        print(srv.socket.getsockname()[1], flush=True)
        srv.serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "client":
        client(sys.argv[2], sys.argv[3])
    else:
        server(sys.argv[2])
