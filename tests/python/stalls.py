"""How long a call blocks, and the longest pause another Python thread
sees meanwhile (a heartbeat every 5 ms): a call that waits holding the GIL
stalls the heartbeat as long as itself."""

import threading
import time
from typing import Callable, Tuple


def blocked_and_longest_pause(mock, rtt_ms: int, call: Callable[[], object]) -> Tuple[float, float]:
    """Runs `call` with every broker of the mock cluster answering after
    `rtt_ms`; returns (seconds it blocked, the heartbeat's longest pause)."""
    gaps = []
    stop = threading.Event()

    def heartbeat():
        last = time.monotonic()
        while not stop.is_set():
            time.sleep(0.005)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    for b in (1, 2, 3):
        mock.set_rtt(b, rtt_ms)
    hb = threading.Thread(target=heartbeat)
    hb.start()
    try:
        time.sleep(0.05)
        t0 = time.monotonic()
        call()
        blocked = time.monotonic() - t0
    finally:
        stop.set()
        hb.join()
        for b in (1, 2, 3):
            mock.set_rtt(b, 0)
    return blocked, max(gaps)
