"""The project's saving, as the user sees it: failures told in the window, and the close
question asked while changes could not be saved.

The project saves on its autosave thread, which must not touch widgets; a full disk or a
folder that became read-only was only logged there. :class:`ProjectWatch` looks every
``interval_ms`` on the GUI thread (a dictionary read: nothing to slow the GUI down) and
tells each new failure once through the host's ``notify``; it is also a keeper for
:class:`~unet_studio.app.qt.close_guard.CloseGuard`: closing while saves fail asks first.

Without a project the labels may be in memory only: no autosave project could be started
(a read-only or full user folder: ``ProjectLink.autosave_project``), and the user was told
once, in a notification long gone by the time the window closes. Closing then asks too,
naming the images whose labels would be lost; "Save project…" asks for a folder and makes
a project there with the labels shown (as Correct > New project… does). So does a project
opened on a folder that cannot be written (``project_writable``): its changes are kept in
memory, and saving them means saving them elsewhere. And so does a project another window
has open (``Project.read_only``, its lock held there): this one may not write it, and a
plain Save (a flush) writes nothing of what it keeps in memory. Once that
window has closed the project (``sharing_problem`` notices, and this one becomes its
writer), plain Save is right again: it saves the changes where they belong.

Closing while such a save is under way (its models being copied: Correct > New project…)
asks about that save, not about saving again: "Finish saving" waits for it and closes the
window once the new project is written; Discard stops it (no project made there, the
changes kept in memory lost), as the question says: the user chose that save, and must not
lose it by a click whose meaning she could not see.
"""

from __future__ import annotations

import weakref
from pathlib import Path

from qtpy.QtCore import QObject, QTimer
from qtpy.QtWidgets import QFileDialog, QWidget

from unet_studio.app.errors import UserError
from unet_studio.app.qt.session_carry_history import keeps_work_in_memory

INTERVAL_MS = 1000


class ProjectWatch(QObject):
    """Watches the project of ``session`` (whichever is open), held weakly."""

    def __init__(self, session, parent: QObject | None = None, interval_ms: int = INTERVAL_MS):
        super().__init__(parent)
        self._session = weakref.ref(session)
        self._told_sharing: weakref.ref | None = None  # the project whose sharing was told
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.tell)
        self._timer.start()

    def _project(self):
        session = self._session()
        return None if session is None else session.project

    def tell(self) -> None:
        """Notify what went wrong since the last look (each failure once), and once that
        saves work again after they failed (she may close the window now). A read-only
        opening is asked each time whether it may write now: once the other window closed
        the project this one saves it, merged with what was saved there (told, and the
        labels and marks on screen redrawn: ``ProjectLink.show_merged``)."""
        project, session = self._project(), self._session()
        if project is None:
            return
        told = self._told_sharing() if self._told_sharing is not None else None
        sharing = project.sharing_problem() if project.read_only or told is not project else None
        for follow in ("show_merged", "follow_project_folder"):  # (a FakeHost session: none)
            if hasattr(session, follow):
                getattr(session, follow)()
        while project.problems:  # (what opening found: told once, here or by the session)
            session.host.notify(project.problems.pop(0), "warning")
        for text in project.problems_to_tell():
            session.host.notify(text, "error")
        saved_again = project.saved_again_to_tell()  # (the failures told above are over)
        if saved_again:
            session.host.notify(saved_again)
        if sharing and told is not project:
            session.host.notify(sharing, "warning")
            self._told_sharing = weakref.ref(project)

    # ---- the close question ----------------------------------------------------------------
    def unsaved_work(self) -> str | None:
        saving = self._saving_into()
        if saving is not None:
            return saving_text(saving, *self._session().saving_elsewhere_copied)
        project = self._project()
        if project is not None:
            problem = project.unsaved_problem()
            if problem and project.sharing_problem() is not None:
                return locked_text(project.path, project.read_only)
            # (failing saves: the images and what Save and Discard do, not journal files)
            return (project.failing_question() or problem) if problem else None
        names, why = self._only_in_memory()
        return in_memory_text(names, why) if names else None

    def _only_in_memory(self) -> tuple[list[str], str | None]:
        """(the images whose labels exist only in memory, why no project keeps them): the
        labels a new project would take (``_work_to_carry``), while no autosave project
        could be started; ([], None) otherwise."""
        session = self._session()
        why = getattr(session, "_autosave_refused", None)
        if session is None or session.project is not None or why is None:
            return [], None
        return sorted(session._work_to_carry()), why

    def _saved_elsewhere(self) -> bool:
        """Can what would be lost only be saved in a new project? Labels without a project,
        or the changes to a project whose folder cannot be written, or that another window
        has open (asked anew each time: once that window closed it, it saves here)."""
        project = self._project()
        if project is None:
            return bool(self._only_in_memory()[0])
        return keeps_work_in_memory(project)

    def _saving_into(self) -> Path | None:
        """The folder the project is being saved into (its models copied), or None."""
        return getattr(self._session(), "saving_elsewhere", None)

    def save_text(self) -> str:
        if self._saving_into() is not None:
            return FINISH_SAVING
        return "Save project…" if self._saved_elsewhere() else "Save"

    def save_unsaved(self, then) -> None:
        """Try the failed saves again now; the window closes only if they all worked.
        Labels only in memory, or kept in memory by a project whose folder cannot be
        written, go into a new project in a folder the user chooses."""
        project = self._project()
        if self._saving_into() is not None:  # (that save ends first: wait for it)
            self._session().when_saved_elsewhere(self._made_then(then))
            return
        if self._saved_elsewhere():
            self._save_into_new_project(then)
            return
        # (a flush writes nothing that is kept in memory: "saved" only when nothing is left)
        if project is None or (project.flush(10) and project.unsaved_problem() is None):
            then(True)
            return
        problem = project.unsaved_problem() or "the project could not be saved"
        self._session().host.notify(f"Still not saved: {problem}", "error")
        then(False)

    def discard_unsaved(self) -> None:
        """Closing drops what is only in memory; a save under way into a new project is
        stopped (as the question said), leaving no project there."""
        if self._saving_into() is not None:
            self._session().stop_saving_elsewhere()

    def _save_into_new_project(self, then) -> None:
        """Ask for a folder and make the project there, holding the labels shown; ``then(ok)``
        (False when no folder was chosen, or the project could not be made or written: the
        window stays open, and the user was told why). The models of a project whose folder
        cannot be written are copied first, in a worker thread (``session_save_elsewhere``):
        ``then`` comes once the project is made, and the window closes only then."""
        session = self._session()
        parent = self.parent() if isinstance(self.parent(), QWidget) else None
        folder = QFileDialog.getExistingDirectory(parent, "New project folder (the labels go into it)")
        if not folder:  # (the chooser cancelled: as the question's Cancel)
            then(False)
            return

        try:
            session.save_project_elsewhere(Path(folder), self._made_then(then))
        except (UserError, OSError) as error:
            session.host.notify(f"No project made in {folder}: {error}", "error")
            then(False)

    def _made_then(self, then):
        """What a save elsewhere calls with the project it made (None: not made, told):
        ``then(ok)`` once that project has written what it holds."""

        def made(project) -> None:
            if project is None:
                then(False)
            else:
                self._when_written(project, then)

        return made

    def _when_written(self, project, then) -> None:
        """``then(ok)`` once the new project has written what it holds (told otherwise),
        waited for in a worker thread: the labels of a stack take seconds (40 Mpx: 1.7 s
        measured), a window frozen meanwhile under the close question's answer."""
        from unet_studio.app.qt.workers import FileWorker, start_engine

        session = self._session()
        written: list[bool] = []

        def finished() -> None:
            if written and written[0]:
                session.host.notify(f"The labels were saved in the project {project.path}")
            elif written:  # (not when cancelled: the window is going, the project closes)
                problem = project.unsaved_problem() or "the project could not be saved"
                session.host.notify(f"Still not saved: {problem}", "error")
            then(bool(written and written[0]))

        self._flush_worker = start_engine(
            _iter_written(project), notify=session.host.notify,
            action=f"Saving the labels in {project.path}", on_result=written.append,
            on_finished=finished, host=session.host,
            task=f"saving the labels in {project.path}", worker_type=FileWorker)  # fmt: skip


def _iter_written(project):
    """Wait (in a worker thread) until ``project`` has written what is pending; True when
    all of it was."""
    yield "writing"
    return project.flush(10)


FINISH_SAVING = "Finish saving"


def saving_text(folder: Path, copied: int, total: int) -> str:
    """The close question's sentence on a save into a new project still under way: where,
    how far, and what each answer does to it (the user chose that save; closing must not
    end it by a click whose meaning she could not see)."""
    done = f" ({copied >> 20} of {total >> 20} MB copied)" if total else ""
    return (f"The project is being saved in {folder}: its models are being copied{done}. "
            f"“{FINISH_SAVING}” waits for that save and then closes the window; "
            f"Discard stops it: no project is made in {folder}, and the changes not saved "
            "are lost.")


def locked_text(path: Path, holder: str) -> str:
    """The close question's sentence on the changes to a project another window has open
    (``holder``: who, as the project's lock says): why they cannot be saved there, and
    what saving does instead."""
    holder = holder[:1].upper() + holder[1:]
    return (f"Changes to the project {path} cannot be saved in it, as another window has this "
            "project open: save your work as a new project, in a folder you choose (its "
            f"models and history go along). {holder} holds it now; once it is closed "
            "there, this window saves the changes in the project itself.")


def in_memory_text(names: list[str], why: str) -> str:
    """The close question's sentence on labels kept only in memory: which images', how many
    (saving puts every one of them in the project), and why no project holds them (``why``:
    the autosave project's refusal)."""
    quoted = [f"\u201c{name}\u201d" for name in names]
    images = " and ".join(filter(None, [", ".join(quoted[:-1]), quoted[-1]]))
    if len(names) == 1:
        return (f"The labels of {images} exist only in memory: no autosave project could be "
                f"started ({why}). Closing the window loses them; saving puts them in a project, "
                "in a folder you choose.")
    return (f"The labels of {len(names)} images ({images}) exist only in memory: no autosave "
            f"project could be started ({why}). Closing the window loses them; saving puts "
            f"all {len(names)} images, each with its labels and reviewed marks, in a project, "
            "in a folder you choose.")
