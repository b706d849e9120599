"""Pause Python's cyclic garbage collector while turning a large JSON page into objects.

Decoding and parsing a page of 200 orders allocates tens of thousands of containers, none of them in
reference cycles; the generational collector would otherwise run many times per page and scan every live
object each time (it was about 60% of the parsing time in bench/bench_client_orders.py). Reference
counting still frees everything as usual.

The collector is one switch for the whole process, so pauses taken by several threads at once are counted:
the first one switches it off, the last one to end switches it back on (if it was on before the first).
Counting keeps two overlapping pauses from leaving it off for good (a thread ending its pause after another
began one would otherwise restore "off").
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    global _pauses, _was_enabled
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()
