"""A `websockets` client for tests/connection_interop.rs, against the
`echo_server` example.

    conn_client.py URI LARGE_BYTES

Sends a text message, a binary message, a fragmented text message, a binary
message of LARGE_BYTES, a ping (awaiting its pong), then closes with 4001
"bye". Prints one flat JSON object (values: strings, numbers, booleans,
null, flat lists) with what came back; the Rust test asserts on
it. Every step is bounded by a timeout.
"""

import asyncio
import json
import sys
import time

from websockets.asyncio.client import connect

STEP_TIMEOUT = 60


async def step(awaitable):
    return await asyncio.wait_for(awaitable, STEP_TIMEOUT)


async def main(uri, large_len):
    results = {}
    async with connect(
        uri,
        max_size=None,
        ping_interval=None,
        open_timeout=10,
        close_timeout=10,
    ) as ws:
        results["extensions"] = [e.name for e in ws.protocol.extensions]
        await step(ws.send("héllo, wörld"))
        results["text"] = await step(ws.recv())

        await step(ws.send(b"\x00\x01\x02\xff"))
        echoed = await step(ws.recv())
        results["binary"] = echoed.hex() if isinstance(echoed, bytes) else None

        # An iterable is sent as one fragmented message, a frame per item.
        await step(ws.send(["frag1", "frag2", "-frag3"]))
        results["fragmented"] = await step(ws.recv())

        large = bytes(i * 7 % 251 for i in range(251)) * (large_len // 251 + 1)
        large = large[:large_len]
        started = time.monotonic()
        await step(ws.send(large))
        echoed = await step(ws.recv())
        results["large_seconds"] = round(time.monotonic() - started, 3)
        results["large_len"] = len(echoed)
        results["large_equal"] = echoed == large
        results["large_is_bytes"] = isinstance(echoed, bytes)

        pong_waiter = await step(ws.ping(b"x"))
        await step(pong_waiter)
        results["pong"] = True

        await step(ws.close(code=4001, reason="bye"))
        sent = ws.protocol.close_sent
        results["close_sent"] = None if sent is None else [sent.code, sent.reason]
        rcvd = ws.protocol.close_rcvd
        results["close_rcvd"] = None if rcvd is None else [rcvd.code, rcvd.reason]
        results["close_code"] = ws.close_code
    results["close_reason"] = ws.close_reason
    print(json.dumps(results, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    asyncio.run(asyncio.wait_for(main(sys.argv[1], int(sys.argv[2])), 150))
