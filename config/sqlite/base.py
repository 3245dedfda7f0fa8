"""SQLite, with one writer at a time per process queued on a lock instead of SQLite's busy handler.

SQLite allows one write transaction at a time. When two threads of one web process both want to
write (two members sending at once, the moderation worker recording an assessment), the loser
waits in SQLite's busy handler, which *sleeps* in growing steps (1, 2, 5, 10 … 100 ms) and
re-polls: a message that could have been stored in a millisecond waits tens of milliseconds,
and p99 delivery latency in a busy room was set by those sleeps, not by work (docs/performance.md).
Here a write transaction first takes a process-wide lock, so writers of one process queue in
order and each starts the moment the previous one commits. Writers in other processes (a second
`manage.py` command) still meet SQLite's own locking and busy timeout. PostgreSQL needs none of
this; it has row locks.

The lock is taken with the same timeout as SQLite's busy timeout; if it cannot be had in that
time the transaction goes ahead and SQLite's own locking decides, so a mistake here can slow a
write but never deadlock one.
"""

from __future__ import annotations

import threading

from django.db.backends.sqlite3 import base

_WRITE_LOCK = threading.Lock()


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_write_lock = False

    def _start_transaction_under_autocommit(self) -> None:
        timeout = float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))
        acquired = _WRITE_LOCK.acquire(timeout=timeout)
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            if acquired:
                _WRITE_LOCK.release()
            raise
        self._holds_write_lock = acquired

    def _release_write_lock(self) -> None:
        if self._holds_write_lock:
            self._holds_write_lock = False
            _WRITE_LOCK.release()

    def _commit(self) -> None:
        try:
            super()._commit()
        finally:
            self._release_write_lock()

    def _rollback(self) -> None:
        try:
            super()._rollback()
        finally:
            self._release_write_lock()

    def _close(self) -> None:
        try:
            super()._close()
        finally:
            self._release_write_lock()
