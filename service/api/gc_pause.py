"""Pause the cyclic garbage collector while a batch builds its answer.

A 10,000-item batch allocates about 400,000 dicts, lists and ints that all stay alive until
the response is written. Each of them counts towards the collector's thresholds, so the
collector kept running full passes over the growing answer, which found nothing (the answers
hold no cycles; reference counting frees them): a third of a shape batch's time here
(bench/run_all.py batches). Batches therefore run with collection paused. Concurrent batches
share one count, and the collector resumes when the last one ends; a batch that raises
resumes it too.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_active = 0
_was_enabled = False


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    global _active, _was_enabled
    with _lock:
        if _active == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and _was_enabled:
                gc.enable()
