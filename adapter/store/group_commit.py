"""Group commit: the writes of many threads in one transaction, one commit.

Every sender thread records its answer in a transaction of its own; under load they queue for
SQLite's single writer (or pay PostgreSQL's round trips one by one) and each pays a commit.
Here a thread queues its request and tries to become the leader: the leader hands everything
queued so far to one batch function, in one transaction, and gives each thread its own
result. Nobody waits longer than one batch behind the one in progress, and a burst of 32
answers costs one commit and a few set-wide statements.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Connection

from adapter.errors import StoreError, StoreUnavailable

Q = TypeVar("Q")
R = TypeVar("R")


@dataclass
class _Waiting(Generic[Q, R]):
    request: Q
    done: bool = False
    result: R | None = None
    error: Exception | None = None


class GroupCommit(Generic[Q, R]):
    """Runs the requests of many threads together: ``run(connection, requests)`` per batch."""

    def __init__(
        self,
        transaction: Callable[[], AbstractContextManager[Connection]],
        run: Callable[[Connection, list[Q]], list[R]],
    ) -> None:
        self._transaction = transaction
        self._run_batch = run
        self._queue: list[_Waiting[Q, R]] = []
        self._queue_lock = threading.Lock()
        self._leader = threading.Lock()

    def submit(self, request: Q) -> R:
        """Run ``request`` in a shared transaction and return its result once committed.

        If the batch's transaction fails, every request in it fails with a ``StoreError``
        of the same kind (``StoreUnavailable`` for anything but a store error): none of it
        was committed.
        """
        waiting: _Waiting[Q, R] = _Waiting(request)
        with self._queue_lock:
            self._queue.append(waiting)
        with self._leader:
            if not waiting.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._run(batch)
        error = waiting.error
        if error is not None:
            kind = type(error) if isinstance(error, StoreError) else StoreUnavailable
            raise kind(str(error)) from error
        return waiting.result  # type: ignore[return-value]

    def _run(self, batch: list[_Waiting[Q, R]]) -> None:
        try:
            with self._transaction() as connection:
                results = self._run_batch(connection, [waiting.request for waiting in batch])
        except Exception as exc:  # handed to each waiting thread, which raises it
            for waiting in batch:
                waiting.error = exc
                waiting.done = True
            return
        for waiting, result in zip(batch, results, strict=True):
            waiting.result = result
            waiting.done = True
