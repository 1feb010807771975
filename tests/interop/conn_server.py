"""A `websockets` echo server for tests/connection_interop.rs, against the
`client` example.

    conn_server.py

Serves on 127.0.0.1, an ephemeral port, printed first on stdout. Echoes
every message, except three commands that exercise the client's receive
side: "ping-me" (a ping, then "pong ok" once its pong came back), "frag-me"
(a text message in three fragments) and "bin-me" (a 5-byte binary message).
When a connection opens it prints "open" and the extensions negotiated;
when it ends it prints "closed CODE REASON" (the close frame
received, or "closed none" when there was none).
"""

import asyncio

from websockets.asyncio.server import serve


async def handler(ws):
    names = " ".join(e.name for e in ws.protocol.extensions)
    print(f"open {names}".rstrip(), flush=True)
    async for message in ws:
        if message == "ping-me":
            pong_waiter = await ws.ping(b"srv")
            await asyncio.wait_for(pong_waiter, 10)
            await ws.send("pong ok")
        elif message == "frag-me":
            await ws.send(["fr", "ag", "ged"])
        elif message == "bin-me":
            await ws.send(b"\x01\x02\x03\x04\x05")
        else:
            await ws.send(message)
    await asyncio.wait_for(ws.wait_closed(), 10)
    rcvd = ws.protocol.close_rcvd
    if rcvd is None:
        print("closed none", flush=True)
    else:
        print(f"closed {rcvd.code} {rcvd.reason}".rstrip(), flush=True)


async def main():
    async with serve(
        handler,
        "127.0.0.1",
        0,
        max_size=None,
        ping_interval=None,
        open_timeout=10,
        close_timeout=10,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        print(port, flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
