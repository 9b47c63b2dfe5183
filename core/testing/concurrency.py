"""Real threads for the concurrency tests: each with its own database connection."""

import threading
from collections.abc import Callable, Iterable

from django.db import connections


def run_together(work: Callable[..., object], each: Iterable[object]) -> list[Exception]:
    """Run ``work(item)`` for each item in its own thread, all released at once.

    Returns what the threads raised (the test asserts it is empty). Each thread
    closes its connections, so the test database can be flushed afterwards.
    """
    items = list(each)
    barrier = threading.Barrier(len(items))
    errors: list[Exception] = []

    def run(item):
        try:
            barrier.wait()
            work(item)
        except Exception as exc:  # noqa: BLE001 - handed to the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
