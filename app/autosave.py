"""A background thread that runs save jobs a short while after they are submitted.

The caller (the GUI thread) only hands over a job - a callable that writes a snapshot it
already took - and returns at once; the thread waits ``delay`` seconds after the first
unsaved change (not after the last one, so continuous editing cannot postpone saving
forever), then runs every pending job. A later job with the same key replaces an earlier
one that has not run yet. A failing job is kept in :attr:`AutosaveWriter.errors` (its
latest failure, one per key: a full disk retried for hours does not grow it) and retried in
the next round unless a newer job replaced it. It is logged once while it fails the same
way, in one line (a traceback only for what is not an OSError: a bug): a full disk retried
every second for hours must not fill the log with the same traceback.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable, Hashable

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0  # wait at least this long before retrying a failed write


class AutosaveWriter:
    """Debounced background writer. ``delay``: seconds of work at risk, at most."""

    def __init__(self, delay: float = 1.0, *, name: str = "unet-studio-autosave"):
        if delay < 0:
            raise ValueError(f"autosave delay must be >= 0 seconds, got {delay}")
        self.delay = float(delay)
        self._errors: dict[Hashable, str] = {}  # key -> its latest failure, newest last
        self._failures = 0  # failed runs so far: what flush() counts (errors stay bounded)
        self._name = name
        self._cond = threading.Condition()
        self._pending: dict[Hashable, Callable[[], None]] = {}
        self._after_others: set[Hashable] = set()  # keys whose jobs run last in a batch
        self._first_pending: float | None = None
        self._flush_requested = False
        self._retry_at = 0.0  # after a failed write: monotonic time of the next try
        self._busy = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self._logged: dict[Hashable, str] = {}  # key -> how it last failed (autosave thread)
        atexit.register(self.close)

    @property
    def errors(self) -> list[str]:
        """The latest failure of each key that failed ("key: error"), the newest last."""
        with self._cond:
            return list(self._errors.values())

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._pending) + int(self._busy)

    def submit(self, key: Hashable, job: Callable[[], None], *, after_others: bool = False) -> None:
        """Queue ``job`` under ``key`` (replacing a queued job with that key); never blocks
        on I/O. ``after_others``: run it after the other jobs of its batch (what describes
        them, written after them: a kill in between leaves it behind, never ahead)."""
        with self._cond:
            if self._closed:
                raise RuntimeError("the autosave writer is closed")
            self._pending.pop(key, None)
            self._pending[key] = job
            (self._after_others.add if after_others else self._after_others.discard)(key)
            if self._first_pending is None:
                self._first_pending = time.monotonic()
            self._ensure_thread()
            self._cond.notify_all()

    def flush(self, timeout: float | None = None) -> bool:
        """Run everything pending now and wait for it; True when all of it was written."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            failures_before = self._failures
            self._flush_requested = True
            self._cond.notify_all()
            try:
                while self._pending or self._busy:
                    if self._thread is None or not self._thread.is_alive():
                        break
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return False
                    self._cond.wait(remaining)
                    if self._failures > failures_before:
                        return False
                return not self._pending and self._failures == failures_before
            finally:
                self._flush_requested = False  # a failed job waits for the next round

    def close(self, timeout: float | None = 30.0) -> bool:
        """Write what is pending and stop the thread. Safe to call twice."""
        atexit.unregister(self.close)
        if self._closed:
            return True
        written = self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        return written

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            jobs = self._next_batch()
            if jobs is None:
                return
            for key, job in jobs.items():
                try:
                    job()
                except Exception as error:  # keep the thread alive; retry next round
                    self._log_failure(key, error)
                    with self._cond:
                        self._errors.pop(key, None)  # (re-inserted: the newest is last)
                        self._errors[key] = f"{key}: {error}"
                        self._failures += 1
                        self._pending.setdefault(key, job)
                        self._first_pending = self._first_pending or time.monotonic()
                        # Back off instead of spinning on a full disk; a flush() retries now.
                        self._retry_at = time.monotonic() + max(self.delay, RETRY_SECONDS)
                        self._flush_requested = False
                else:
                    if self._logged.pop(key, None) is not None:
                        log.info("autosave of %r works again", key)
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def _log_failure(self, key: Hashable, error: Exception) -> None:
        """One line the first time ``key`` fails this way; its retries failing the same way
        are logged at debug level only. The same way: the same text, or for an OSError the
        same kind and code (its text may name a temporary file, new at each try)."""
        text = f"{type(error).__name__}: {error}"
        way = f"{type(error).__name__} {error.errno}" if isinstance(error, OSError) else text
        if self._logged.get(key) == way:
            log.debug("autosave of %r failed again: %s", key, text)
            return
        self._logged[key] = way
        if isinstance(error, OSError):  # (the machine's situation: disk, folder rights)
            log.warning("autosave of %r failed (retried until it works): %s", key, text)
        else:
            log.exception("autosave of %r failed (retried until it works)", key)

    def _next_batch(self) -> dict | None:
        """Wait until the oldest pending change is ``delay`` old (or a flush), then take all."""
        with self._cond:
            while True:
                if self._closed and (not self._pending or self._retry_at):
                    return None  # done, or closing after a failed write: give up (logged)
                if self._pending:
                    due = max(self._first_pending + self.delay, self._retry_at)
                    now = time.monotonic()
                    if self._flush_requested or self._closed or now >= due:
                        break
                    self._cond.wait(due - now)
                else:
                    self._cond.wait()
            jobs, self._pending = self._pending, {}
            later = {key: jobs.pop(key) for key in list(jobs) if key in self._after_others}
            jobs.update(later)
            self._first_pending, self._retry_at = None, 0.0
            self._busy = True
            return jobs
