"""Group commit: the messages of many senders stored by one multi-row INSERT and COMMIT.

A caller hands in its row and waits. Whoever finds no commit in progress leads: it
takes every row queued so far (up to `MAX_BATCH`), inserts them in one transaction,
wakes their callers, and hands the lead to the next queued caller. Rows that arrive
while a commit runs wait for the next one, so the batch grows with the load and an
idle server still commits a lone message at once. No background task is needed: this
works the same under eventlet, gevent and plain threads.

A row that the unique constraints refuse (the same sender and `client_id`, a retry)
is skipped by `INSERT IGNORE` / `INSERT OR IGNORE` without failing its neighbours; its
caller is told it was not stored and answers with the first copy. Each caller learns
only after the COMMIT returned, so nothing is acknowledged before it is durable.

A batch that lost a lock conflict (an InnoDB deadlock or lock wait timeout, SQLite's
"database is locked") was rolled back whole, and is redone a bounded number of times;
so is one whose connection died in the pool. `lock_conflict` is the rule the strike
path (`services/moderation.py`) applies to its own transaction too.

The writer keeps one connection of its own between batches (detached from the pool:
only one leader at a time uses it). Checking a pooled connection out and back in for
every batch cost a pool round trip each time: the pool's reset `ROLLBACK` on check-in,
after a COMMIT that had already ended the transaction. A held connection is never
inside a transaction between batches: it is kept only after its COMMIT succeeded; after
any failure it is closed (the server drops whatever the failed transaction left), and
the next batch opens a fresh one. It is also closed when idle longer than the pool's
recycle time (the server's idle timeout) and when the engine is disposed.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, bindparam, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

MAX_BATCH = 500
# Attempts of one transaction that keeps losing lock conflicts, and the longest pause
# (seconds, doubled each time, jittered) before the next attempt.
ATTEMPTS = 5
BACKOFF = 0.02
# MySQL/MariaDB: ER_LOCK_DEADLOCK (the transaction was rolled back) and
# ER_LOCK_WAIT_TIMEOUT (only the statement was; the caller rolls back the rest).
DEADLOCK, LOCK_WAIT_TIMEOUT = 1213, 1205
# Inside the batch's transaction, before the INSERT: ({row index: error} for the rows
# that must not be stored (their callers get the error; the others go ahead),
# {row index: note} handed back to the callers of stored rows).
Verdicts = tuple[dict[int, BaseException], dict[int, Any]]
Guard = Callable[[Connection, list[dict[str, Any]]], Verdicts]


def error_code(exc: BaseException) -> int | None:
    """The driver's numeric error code (MySQL/MariaDB), if it has one."""
    args = getattr(getattr(exc, "orig", None), "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def lock_conflict(exc: BaseException) -> bool:
    """True when the transaction failed only because another one held a lock it
    needed: redoing the whole transaction is the answer, not `unavailable`."""
    if not isinstance(exc, DBAPIError):
        return False
    if error_code(exc) in (DEADLOCK, LOCK_WAIT_TIMEOUT):
        return True
    return "database is locked" in str(exc.orig)


def pause(attempt: int) -> None:
    """Before attempt `attempt + 1`: a jittered, growing pause, so the transactions
    that deadlocked do not meet again at once."""
    time.sleep(random.uniform(0, BACKOFF * 2**attempt))  # noqa: S311  jitter, not secrets


class Pending:
    """One row waiting for its commit; `stored` is False for a refused duplicate."""

    __slots__ = ("row", "done", "stored", "error", "lead", "note")

    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row
        self.done = threading.Event()
        self.stored = False
        self.error: BaseException | None = None
        self.lead = False
        self.note: Any = None


class GroupCommit:
    """Batches INSERTs into one table across concurrent callers (see the module doc)."""

    def __init__(
        self,
        engine: Engine,
        table: Table,
        key: str = "id",
        guard: Guard | None = None,
    ) -> None:
        self.engine = engine
        self.guard = guard
        self.table = table
        self.key = table.c[key]
        prefix = "OR IGNORE" if engine.dialect.name == "sqlite" else "IGNORE"
        self.insert = table.insert().prefix_with(prefix)
        self.stored_keys = select(self.key).where(
            self.key.in_(bindparam("keys", expanding=True))
        )
        self._lock = threading.Lock()
        self._queue: list[Pending] = []
        self._leading = False
        self.batches = 0
        self.rows = 0
        # The writer's own connection, used by the leader only (see the module doc).
        self._conn: Connection | None = None
        self._used = 0.0
        self._recycle = float(getattr(engine.pool, "_recycle", -1))
        self.connections = 0
        event.listen(engine, "engine_disposed", self._disposed)

    def store(self, row: dict[str, Any]) -> tuple[bool, Any]:
        """Insert the row with whatever else is queued: (stored, the guard's note).

        Not stored means the unique constraints refused it (a duplicate).

        Raises the database error when the batch's transaction failed: nothing of it
        was stored.
        """
        pending = Pending(row)
        with self._lock:
            self._queue.append(pending)
            lead = not self._leading
            if lead:
                self._leading = True
        if not lead:
            pending.done.wait()
            if pending.lead:
                self._lead(pending)
        else:
            self._lead(pending)
        if pending.error is not None:
            raise pending.error
        return pending.stored, pending.note

    def _lead(self, mine: Pending) -> None:
        """Commit the queued rows (this caller's among them), then pass the lead on."""
        with self._lock:
            batch = self._queue[:MAX_BATCH]
            del self._queue[:MAX_BATCH]
        try:
            self._commit(batch)
        except BaseException as exc:  # noqa: BLE001  no waiter may be left hanging
            self._fail(batch, exc)
            raise
        finally:
            for pending in batch:
                if pending is not mine:
                    pending.done.set()
            with self._lock:
                successor = self._queue[0] if self._queue else None
                if successor is None:
                    self._leading = False
            if successor is not None:
                # The first waiter leads the next batch (its row is in it).
                successor.lead = True
                successor.done.set()

    def _commit(self, batch: Sequence[Pending]) -> None:
        attempt = 1
        while True:
            try:
                outcome = self._transaction(batch)
                break
            except PoolTimeout as exc:
                self._fail(batch, exc)
                return
            except DBAPIError as exc:
                # Rolled back whole: a lost lock conflict is redone, and so is (once)
                # a connection that died in the pool (no pre-ping), on a fresh one.
                # The keys are unique, so a row that did commit is not stored twice.
                retry = lock_conflict(exc) or (
                    exc.connection_invalidated and attempt == 1
                )
                if not retry or attempt >= ATTEMPTS:
                    self._fail(batch, exc)
                    return
                pause(attempt)
                attempt += 1
        (refused, notes), inserted = outcome
        self.batches += 1
        self.rows += len(batch)
        for index, pending in enumerate(batch):
            pending.note = notes.get(index)
            if index in refused:
                pending.error = refused[index]
            else:
                pending.stored = (
                    inserted is None or pending.row[self.key.name] in inserted
                )

    def _connection(self) -> Connection:
        """The held connection, or a fresh one detached from the pool."""
        conn = self._conn
        now = time.monotonic()
        if conn is not None and 0 <= self._recycle < now - self._used:
            self._release()
            conn = None
        if conn is None:
            conn = self.engine.connect()
            try:
                conn.detach()
            except BaseException:
                conn.close()
                raise
            self._conn = conn
            self.connections += 1
        self._used = now
        return conn

    def _release(self) -> None:
        """Close the held connection (its transaction, if any, dies with it)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except DBAPIError:
                conn.invalidate()

    def _disposed(self, engine: Engine) -> None:
        """`Engine.dispose()`: no connection outlives the pool; the next batch opens one."""
        with self._lock:
            if not self._leading:
                self._release()

    def _transaction(
        self, batch: Sequence[Pending]
    ) -> tuple[Verdicts, set[Any] | None]:
        """One transaction: the guard, the INSERT, and (only if some row was ignored)
        the keys that were stored; None stands for all of them. The connection is kept
        only once its COMMIT returned: after any failure it is closed."""
        conn = self._connection()
        try:
            with conn.begin():
                outcome = self._statements(conn, batch)
        except BaseException:
            self._release()
            raise
        return outcome

    def _statements(
        self, conn: Connection, batch: Sequence[Pending]
    ) -> tuple[Verdicts, set[Any] | None]:
        rows = [pending.row for pending in batch]
        verdicts: Verdicts = self.guard(conn, rows) if self.guard else ({}, {})
        refused = verdicts[0]
        if refused:
            rows = [row for i, row in enumerate(rows) if i not in refused]
        if not rows:
            return verdicts, None
        count = conn.execute(self.insert, rows).rowcount
        if count == len(rows):
            return verdicts, None
        keys = [row[self.key.name] for row in rows]
        return verdicts, set(conn.scalars(self.stored_keys, {"keys": keys}))

    @staticmethod
    def _fail(batch: Sequence[Pending], error: BaseException) -> None:
        for pending in batch:
            pending.error = error
