"""Group commit: the writes of many threads in one transaction, one commit.

Every sender thread records its answer in a transaction of its own; under load they queue for
SQLite's single writer (or for PostgreSQL's WAL flush) and each pays a commit. Here a thread
queues its piece of work and tries to become the leader: the leader runs everything queued so
far in one transaction and hands each thread its own result. Nobody waits longer than one
transaction behind the one in progress, and a burst of 32 answers costs one commit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

from adapter.errors import StoreError

R = TypeVar("R")


@dataclass
class _Request(Generic[R]):
    work: Callable[[Connection], R]
    order: str
    done: bool = False
    result: R | None = None
    error: Exception | None = None


class GroupCommit:
    """Runs queued pieces of work from many threads together, one transaction per batch."""

    def __init__(self, transaction: Callable[[], AbstractContextManager[Connection]]) -> None:
        self._transaction = transaction
        self._queue: list[_Request[Any]] = []
        self._queue_lock = threading.Lock()
        self._leader = threading.Lock()

    def submit(self, work: Callable[[Connection], R], order: str = "") -> R:
        """Run ``work`` in a shared transaction and return its result once committed.

        Work within a batch runs sorted by ``order`` (a dossier key), so two processes'
        batches lock rows in the same order and cannot deadlock each other. If the batch's
        transaction fails, every piece of work in it fails with a ``StoreError``: none of it
        was committed.
        """
        request: _Request[R] = _Request(work, order)
        with self._queue_lock:
            self._queue.append(request)
        with self._leader:
            if not request.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._run(batch)
        if request.error is not None:
            raise StoreError(str(request.error)) from request.error
        return request.result  # type: ignore[return-value]

    def _run(self, batch: list[_Request[Any]]) -> None:
        batch.sort(key=lambda request: request.order)
        try:
            with self._transaction() as connection:
                results = [request.work(connection) for request in batch]
        except Exception as exc:  # handed to each waiting thread, which raises it
            for request in batch:
                request.error = exc
                request.done = True
            return
        for request, result in zip(batch, results, strict=True):
            request.result = result
            request.done = True
