"""How a project's saving stands, for the user: failures to tell, the close question, and a
read-only opening (another window writes the folder, see ``project_lock``, or the folder
cannot be written, see ``project_writable``) that becomes the writer and catches up once
that window closed it, or once the folder can be written again. Mixed into ``Project``."""

from __future__ import annotations

import json
import logging
import time

from unet_studio.app import project_writable, save_failures
from unet_studio.app.project_images import image_refs
from unet_studio.app.project_jobs import GONE
from unet_studio.app.project_lock import LOCK_FILE, lock_holder, take_lock

log = logging.getLogger(__name__)
PROJECT_FILE = "project.json"  # (the project's own file; ``project`` uses this name)


class ProjectSaving:
    """Uses the project's ``path``, ``images``, ``read_only``, ``unwritable``, ``_jobs``
    (``ProjectJobs``), ``_writer``, ``_told``, ``_history``, ``_savers``, ``_save_meta``,
    ``_queue_reviewed`` and ``_set_aside_noted``."""

    # Since when saves fail (time.time(), as first seen by a look: the project line's or
    # the watch's, a second apart at most), None while they work; and whether saves that
    # failed work again, not told yet (``saved_again_to_tell``). Set on the instance.
    _failing_since: float | None = None
    _saved_again = False

    def problems_to_tell(self) -> list[str]:
        """Saves failing now (a full disk, a read-only folder) not told yet: each is told
        once while it lasts, and again if it comes back after saving worked."""
        failing = list(self._failing_now().values())
        if not failing:
            self._told.clear()
        new = [text for text in failing if text not in self._told]
        self._told.update(new)
        return new

    def saved_again_to_tell(self) -> str | None:
        """Once, after saves failed: that everything is on disk again (she may close the
        window now). Not while changes still wait for the autosave thread: told then at a
        later look."""
        if self._failing_now() or not self._saved_again or self._writer.pending:
            return None
        self._saved_again = False
        return save_failures.saved_again_text(self.path)

    def _failing_now(self) -> dict:
        """The failing saves (key -> sentence), noting since when they fail, and when
        they stop failing that this is to be told (``saved_again_to_tell``)."""
        # (a copy is one C call under the GIL: the autosave thread may change it meanwhile)
        failing = self._jobs.failing.copy()
        if failing:
            self._saved_again = False  # (failing again before it was told: not saved)
            if self._failing_since is None:
                self._failing_since = time.time()
        elif self._failing_since is not None:
            self._failing_since = None
            self._saved_again = True
        return failing

    def failing_question(self) -> str | None:
        """The close question's sentence while saves fail (None while they work): since
        when, why, the images whose changes would be lost, and what Save and Discard do
        now; no internal file names (``unsaved_problem`` has them, for the log)."""
        failing = self._failing_now()
        if not failing:
            return None
        names = {ref.id: ref.name for ref in self.images}
        things = save_failures.unsaved_things(list(failing), names)
        reason = save_failures.short_reason(failing, GONE)
        return save_failures.close_text(self.path, self._failing_since, reason, things)

    def sharing_problem(self) -> str | None:
        """Why changes made here are not saved now (another window or process writes the
        folder), or None. A window that reopens its own project opens the new one before
        it closes the old one: that one is writable by the time this is asked. A folder
        that cannot be written is no sharing: told once, by ``problems``, when it opened.
        Asked again and again, it also notices when the folder can be written again."""
        if not self.read_only or self._may_write() or self.unwritable is not None:
            return None
        return (f"The project {self.path} is open in {self.read_only} too: it is read-only "
                "here (changes are kept in memory and saved once it is closed there). If "
                f"nothing else has it open, delete {self.path / LOCK_FILE}.")

    def unsaved_problem(self) -> str | None:
        """What closing now would lose, or None: changes whose save fails, or changes kept
        in memory by a read-only opening."""
        failing = self._jobs.failures()
        if failing:
            more = len(failing) - 1
            return failing[0] + (f" ({more} other save{'s' * (more > 1)} failing too.)" if more else "")
        if self._jobs.deferred and not self._may_write():
            if self.unwritable is not None:
                return (f"Changes to the project {self.path} are kept in memory only: the "
                        f"folder cannot be written ({self.unwritable}). Saving puts them in "
                        "a new project, in a folder you choose.")
            return (f"Changes to the project {self.path} are not saved: it is open in "
                    f"{self.read_only}.")
        return None

    def kept_in_memory(self) -> bool:
        """Is the work of this opening kept in memory only, its folder not writable? Asked
        again: a folder that can be written again saves that work there now (False)."""
        return self.unwritable is not None and not self._may_write()

    def saving_note(self) -> str | None:
        """Why the project keeps its changes in memory instead of saving them, in a few
        words for the project line of a panel: its saves fail (a full disk: lasting, as
        the notification fades), or its folder cannot be written; None when it saves them
        (or another window writes it: told by :meth:`sharing_problem`, ending by itself)."""
        failing = self._failing_now()
        if failing:
            reason = save_failures.short_reason(failing, GONE)
            return save_failures.failing_note(self._failing_since, reason)
        if self.unwritable is None:
            return None
        return project_writable.unwritable_note(self.unwritable)

    def _may_write(self) -> bool:
        """May changes be written now? A read-only opening becomes the writer once the
        folder's other writer closed it, or once the folder can be written again (the
        changes kept meanwhile are saved then)."""
        writable_again = self.unwritable is not None
        if writable_again and not self._writable_again():
            return False
        if self.read_only and take_lock(self.path, self):
            log.info("%s: %s; saving here now", self.path, "the folder can be written again"
                     if writable_again else "the other window closed it")
            self.read_only = None
            self._catch_up(writable_again)
        return self.read_only is None

    def _writable_again(self) -> bool:
        """Can a folder that could not be written be written now? (A write test: a failing
        one costs a system call, cheap enough for every save and every look of the
        project's watch.) Then it is read-only only if another window took it meanwhile."""
        why = project_writable.write_problem(self.path)
        if why is not None:
            self.unwritable = why
            return False
        self.unwritable = None
        self.read_only = lock_holder(self.path) or self.read_only
        return True

    # What a catch-up merged into this window's live arrays and reviewed regions, for the
    # window to redraw (``take_merged``); set on the instance by ``_catch_up``.
    _merged: tuple[list, list] = ((), ())

    def take_merged(self) -> tuple[list, list]:
        """The live label arrays and the reviewed regions that became this window's writer
        merged with what the other window saved (see ``project_merge``), each given once:
        redraw them."""
        merged, self._merged = self._merged, ((), ())
        return merged

    def _catch_up(self, writable_again: bool = False) -> None:
        """Save what a read-only opening kept in memory, now that it may, merged with what
        the other window saved meanwhile (``project_merge``): the image list (images it
        added stay), the label arrays (its pixels stay but for those changed here, also in
        this window's live arrays) and the reviewed marks (both windows' stay).
        ``writable_again``: the folder could not be written (no other window)."""
        deferred, self._jobs.deferred = self._jobs.deferred, set()
        self._set_aside_noted()  # (before this window's labels of the new shape are saved)
        merged_images = False
        if "project.json" in deferred:
            try:
                file = self.path / PROJECT_FILE
                saved = json.loads(file.read_text("utf-8"))
                on_disk = image_refs(file, saved)
                self._unknown.take_new(saved)  # (what a newer build added there stays)
            except (OSError, ValueError):
                on_disk = []
            known = {ref.id for ref in self.images}
            added = [ref for ref in on_disk if ref.id not in known]
            self.images += added
            merged_images = bool(added)
            self._save_meta()
        arrays = [saver.array for saver in self._savers.values() if saver.merge_saved()]
        regions = self._merge_saved_reviewed(deferred)
        if "history" in deferred:
            self._history.resubmit()
        for key in deferred:
            if key in self._savers:
                self._savers[key].resubmit()
            elif isinstance(key, tuple) and key[0] == "reviewed":
                self._queue_reviewed(key[1], force=True)
        if arrays or regions:
            self._merged = (list(self._merged[0]) + arrays, list(self._merged[1]) + regions)
        if deferred and writable_again:
            self.problems.append(f"The project folder {self.path} can be written again: the "
                                 "changes kept in memory are saved there now.")
        elif deferred and (merged_images or arrays or regions):
            self.problems.append(
                f"The other window closed the project {self.path}: this window saves it now; "
                "the changes made here were merged with those saved there meanwhile.")
