"""Pause Python's cyclic garbage collector while turning a large JSON page into objects.

Decoding and parsing a page of 200 orders allocates tens of thousands of containers, none of them in
reference cycles; the generational collector would otherwise run many times per page and scan every live
object each time (it was about 60% of the parsing time in bench/bench_client_orders.py). Reference
counting still frees everything as usual; the collector is restored (if it was enabled) on exit.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
