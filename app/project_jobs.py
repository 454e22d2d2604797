"""The project's save jobs on their way to the autosave thread: what failed is kept, in
words for the user, until it is written; a project opened read-only defers its jobs.

:class:`~unet_studio.app.autosave.AutosaveWriter` logs a failing job and retries it, but
logs are not what a microscopist reads: a full disk or a folder that became read-only must
reach the window (``Project.problems_to_tell``) and the close question
(``Project.unsaved_problem``), naming the file and what to do. Before each job the project
folder is located (``project_folder``): a moved folder is followed, and a deleted one stops
every job (kept and retried) with one failure that says so, instead of jobs recreating
folders at the old path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

from unet_studio.app.autosave import AutosaveWriter
from unet_studio.app.project_folder import FolderGone, ProjectFolder

# (project.json holds the images and the current model: an Accept's failed save is the
# latter, and "the image list" misled)
WHAT = {"project.json": "the project file (its images and current model)",
        "history": "the project's history",
        "labels": "the corrections", "prediction": "the prediction",
        "reviewed": "the reviewed marks"}  # fmt: skip
GONE = "folder"  # the failure key of a folder moved out of sight or deleted: told once


def describe_failure(key: Hashable, error: BaseException, folder) -> str:
    """"Could not save the corrections of img (…/0.0.npy.zst: No space left on device)…"."""
    kind, image = (key[0], key[1]) if isinstance(key, tuple) and len(key) == 2 else (key, None)
    what = WHAT.get(str(kind), str(kind)) + (f" of {image}" if image else "")
    where = getattr(error, "filename", None) or folder
    reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return (f"Could not save {what} ({where}: {reason}). Nothing is lost yet: the changes "
            "stay in memory and saving is retried; free some disk space or make the project "
            "folder writable.")


class ProjectJobs:
    """Stands in for the :class:`AutosaveWriter` (``submit``) for the project's savers.
    ``writable()``: may jobs be written now (False: a read-only opening; the job is kept
    back and the savers' own pending state carries it into the next job)."""

    def __init__(self, writer: AutosaveWriter, folder: ProjectFolder,
                 writable: Callable[[], bool]):
        self._writer = writer
        self._folder = folder
        self._writable = writable
        self._lock = threading.Lock()
        self.failing: dict[Hashable, str] = {}  # key -> what failed, until it is written
        self.deferred: set[Hashable] = set()  # keys held back by a read-only opening

    def submit(self, key: Hashable, job: Callable[[], None]) -> None:
        if not self._writable():
            self.deferred.add(key)
            return
        # The reviewed marks are written after the labels they mark (a kill between the two
        # left marks over edits the labels saved did not hold: training on the prediction
        # there as if it were checked); behind the labels, they only leave pixels unmarked.
        reviewed = isinstance(key, tuple) and key[:1] == ("reviewed",)
        self._writer.submit(key, lambda: self._run(key, job), after_others=reviewed)

    def _run(self, key: Hashable, job: Callable[[], None]) -> None:
        """On the autosave thread."""
        where = self._folder.locate()
        try:
            if where is None:  # (a job would recreate folders at the old path)
                raise FolderGone(self._folder.path)
            job()
        except Exception as error:
            # (moved or deleted while the job ran: that is the failure, not the job's own)
            now = where and self._folder.locate()
            with self._lock:
                if now is None:
                    self.failing[GONE] = str(FolderGone(self._folder.path))
                elif now == where:
                    self.failing[key] = describe_failure(key, error, where)
            raise  # (the writer keeps the job and retries it)
        with self._lock:
            self.failing.pop(key, None)
            self.failing.pop(GONE, None)  # (the folder is back)

    def failures(self) -> list[str]:
        with self._lock:
            return list(self.failing.values())
