"""Two chat processes sharing one room through Redis: clients connected to
each must see every message, from both processes, in one and the same
order, none lost.

    python chat_cluster.py PORT_A PORT_B [MESSAGES]

Prints one line per check and, last, `redis chat: N passed, M failed`.
Exits 0 only if every check passed. Needs `websockets` (>= 13).
"""

import json
import sys
import threading
import time

from websockets.sync.client import connect

TIMEOUT = 30.0


def read_until(ws, done, what):
    """Messages (decoded JSON) until `done(messages)`; bounded in time."""
    seen = []
    deadline = time.monotonic() + TIMEOUT
    while not done(seen):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"{what}: saw {seen}")
        seen.append(json.loads(ws.recv(timeout=left)))
    return seen


def main():
    port_a, port_b = int(sys.argv[1]), int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print(f"{'ok' if ok else 'FAILED'}: {name}{(' (' + detail + ')') if detail and not ok else ''}")

    with connect(f"ws://127.0.0.1:{port_a}/ws", max_size=None) as a, connect(
        f"ws://127.0.0.1:{port_b}/ws", max_size=None
    ) as b:
        hello_a = read_until(a, lambda s: any(m["type"] == "hello" for m in s), "A's hello")
        name_a = next(m["name"] for m in hello_a if m["type"] == "hello")
        hello_b = read_until(b, lambda s: any(m["type"] == "hello" for m in s), "B's hello")
        name_b = next(m["name"] for m in hello_b if m["type"] == "hello")
        check("the two processes name their guests apart", name_a != name_b, f"{name_a} {name_b}")
        # A is told of B's joining, through the other process.
        read_until(a, lambda s: any(m["type"] == "join" and m["name"] == name_b for m in s), "B's join at A")
        check("a join crosses from B's process to A", True)

        # Both send at once; every message goes through Redis. Paced (the
        # room closes a browser more than 64 messages behind with 1013, and
        # the chat's threads look at their queue every 10 ms).
        def send(ws, tag):
            for i in range(count):
                ws.send(f"{tag}-{i}")
                time.sleep(0.001)

        senders = [threading.Thread(target=send, args=(a, "a")), threading.Thread(target=send, args=(b, "b"))]
        for t in senders:
            t.start()
        total = 2 * count

        def messages(s):
            return [m for m in s if m["type"] == "message"]

        got = {}
        for ws, who in ((a, "A"), (b, "B")):
            seen = read_until(ws, lambda s: len(messages(s)) >= total, f"{total} messages at {who}")
            got[who] = [(m["name"], m["text"]) for m in messages(seen)]
        for t in senders:
            t.join()

        for who in ("A", "B"):
            texts = [t for _, t in got[who]]
            check(
                f"{who} got all {total} messages, none twice",
                sorted(texts) == sorted([f"a-{i}" for i in range(count)] + [f"b-{i}" for i in range(count)]),
            )
            for tag, name in (("a", name_a), ("b", name_b)):
                own = [t for n, t in got[who] if n == name]
                check(
                    f"{who} got {tag}'s messages in the order sent, named {name}",
                    own == [f"{tag}-{i}" for i in range(count)],
                )
        check("A and B saw one and the same order", got["A"] == got["B"])

    passed = sum(results)
    failed = len(results) - passed
    print(f"redis chat: {passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()
