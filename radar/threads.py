"""Calls run on other threads, their value or error given back where they are waited for.

`DaemonThreads` serves masking (one helper that shares a large block's Hyperscan passes) and
`radar scan gitlab` (projects read several at once). Not concurrent.futures: importing it loads
logging (~6 ms of a short `radar mask`), and Python joins its threads at exit, so a scan
interrupted while GitLab is slow to answer would wait out every request in flight.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Callable, TypeVar

if TYPE_CHECKING:
    from queue import SimpleQueue

_T = TypeVar("_T")

# What a call on another thread returned, or the error it raised there: (value, None) or (None, error).
Outcome = tuple[object, "BaseException | None"]


def outcome_of(call: Callable[[], object]) -> Outcome:
    try:
        return call(), None
    except BaseException as error:  # raised again in the thread that waits for it (`value_of`)
        return None, error


def value_of(outcome: Outcome) -> object:
    value, error = outcome
    if error is not None:
        raise error
    return value


class DaemonThreads:
    """`count` daemon threads running the calls handed to them (`start`), in the order handed."""

    def __init__(self, count: int, name: str) -> None:
        import queue  # here: a job that starts no thread never needs it (~0.9 ms)

        self._count = count
        self._queue = queue.SimpleQueue
        self._empty = queue.Empty
        self._calls: SimpleQueue[tuple[Callable[[], object], SimpleQueue] | None] = queue.SimpleQueue()
        for _ in range(count):
            threading.Thread(target=self._serve, name=name, daemon=True).start()

    def _serve(self) -> None:
        while (task := self._calls.get()) is not None:
            call, reply = task
            reply.put(outcome_of(call))

    def start(self, call: Callable[[], _T]) -> Callable[[], _T]:
        """Run `call` on one of the threads; returns a function that waits for its result."""
        reply: SimpleQueue[Outcome] = self._queue()
        self._calls.put((call, reply))
        return lambda: value_of(reply.get())  # type: ignore[return-value]

    def stop(self) -> None:
        """Drop the calls no thread has taken yet; each thread ends after the call it is running."""
        while True:
            try:
                self._calls.get_nowait()
            except self._empty:
                break
        for _ in range(self._count):
            self._calls.put(None)
