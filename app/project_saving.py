"""How a project's saving stands, for the user: failures to tell, the close question, and a
read-only opening (another window writes the folder, see ``project_lock``) that becomes the
writer and catches up once that window closed it. Mixed into ``Project``."""

from __future__ import annotations

import json
import logging

from unet_studio.app.project_images import image_refs
from unet_studio.app.project_lock import LOCK_FILE, take_lock

log = logging.getLogger(__name__)
PROJECT_FILE = "project.json"  # (the project's own file; ``project`` uses this name)


class ProjectSaving:
    """Uses the project's ``path``, ``images``, ``read_only``, ``_jobs`` (``ProjectJobs``),
    ``_told``, ``_history``, ``_savers``, ``_save_meta`` and ``_queue_reviewed``."""

    def problems_to_tell(self) -> list[str]:
        """Saves failing now (a full disk, a read-only folder) not told yet: each is told
        once while it lasts, and again if it comes back after saving worked."""
        failing = self._jobs.failures()
        if not failing:
            self._told.clear()
        new = [text for text in failing if text not in self._told]
        self._told.update(new)
        return new

    def sharing_problem(self) -> str | None:
        """Why changes made here are not saved now (another window or process writes the
        folder), or None. A window that reopens its own project opens the new one before
        it closes the old one: that one is writable by the time this is asked."""
        if not self.read_only or self._may_write():
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
            return (f"Changes to the project {self.path} are not saved: it is open in "
                    f"{self.read_only}.")
        return None

    def _may_write(self) -> bool:
        """May changes be written now? A read-only opening becomes the writer once the
        folder's other writer closed it (the changes kept meanwhile are saved then)."""
        if self.read_only and take_lock(self.path, self):
            log.info("%s: the other window closed it; saving here now", self.path)
            self.read_only = None
            self._catch_up()
        return self.read_only is None

    def _catch_up(self) -> None:
        """Save what a read-only opening kept in memory, now that it may. The image list is
        merged with the one on disk first: images the other window added stay."""
        deferred, self._jobs.deferred = self._jobs.deferred, set()
        if "project.json" in deferred:
            try:
                file = self.path / PROJECT_FILE
                on_disk = image_refs(file, json.loads(file.read_text("utf-8")))
            except (OSError, ValueError):
                on_disk = []
            known = {ref.id for ref in self.images}
            self.images += [ref for ref in on_disk if ref.id not in known]
            self._save_meta()
        if "history" in deferred:
            self._history.resubmit()
        for key in deferred:
            if key in self._savers:
                self._savers[key].resubmit()
            elif isinstance(key, tuple) and key[0] == "reviewed":
                self._queue_reviewed(key[1], force=True)
