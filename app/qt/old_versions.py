"""The project's earlier accepted model versions, offered for removal by the Models panel
(keep the current model and the last N before it; no widgets here).

Every Accept of a Train round keeps a new model folder in the project's ``models/`` and
the versions before it stay, for Roll back: 100-300 MB each for a ResNet-50 U-Net, so a
project trained for weeks holds gigabytes of versions nobody goes back to. Nothing is
removed automatically (each version is minutes to hours of training, and Roll back
offers it): the Models panel says how many there are beyond the last N (the user picks
N) and how much disk they hold, and removes them when the user says yes to the list.

What counts as an accepted version: a folder in this project's ``models/`` that a round
of this project wrote (its "fine-tune" entry) and that was then made current (Accept,
Roll back or Use) and not rejected since: the history's last verdict on it
(``train_versions.verdicts_in``). A round still waiting for its verdict, or set aside
without one, is no version. They are ordered by when they were last made current, the
most recent first: the last N kept are those the user worked with last.

What is never offered: the session's and the project's current model, the default model
(``rejected_rounds.models_in_use``), a model current in another window
(``model_actions.in_use_refusal``), anything outside the project's ``models/`` (a user's
or bundled model), and nothing while the project is read-only (another window writes it
and may use them). Removal is refused while any work runs (a Train round may be reading
its parent), and goes through Remove's own path (``model_actions.remove_model``): the
folder is hidden in one rename before it is deleted, the removal logged ("remove model"),
and the models fine-tuned from a removed version are relinked to its own parent, so that
the current model's lineage skips it instead of ending there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from unet_studio.app.errors import UserError
from unet_studio.app.qt.model_actions import in_use_refusal, remove_model
from unet_studio.app.qt.moved_history import relocation
from unet_studio.app.qt.open_sessions import other_sessions
from unet_studio.app.qt.rejected_rounds import folder_size, listed, models_in_use, size_text
from unet_studio.app.qt.train_versions import history_of, verdicts_in
from unet_studio.app.qt.workers import engine_work_running

DEFAULT_KEEP = 3  # earlier versions kept besides the current model, until the user says
MADE_CURRENT = ("accept model", "set current model")  # verdicts that make a version


@dataclass(frozen=True)
class OldVersion:
    """An earlier accepted version that may be removed: its ModelInfo and its size."""

    info: object  # ModelInfo
    size: int  # bytes on disk

    @property
    def label(self) -> str:
        """"nuclei-ft-20261206-174450, saved 2026-12-06 17:44 (230.1 MB)"."""
        return f"{self.info.name}, saved {saved_date(self.info)} ({size_text(self.size)})"


def saved_date(info) -> str:
    """"2026-12-06 17:44": the date its lineage recorded (UTC), or "date unknown"."""
    date = str(info.date or "")
    return date[:16].replace("T", " ") if len(date) >= 16 else (date or "date unknown")


def accepted_versions(session) -> list:
    """ModelInfos of the project's earlier accepted versions (see the module's docstring),
    the one made current last first, without the current model. Empty without a project,
    and while it is read-only."""
    project, library = session.project, session.library
    models_dir = library.folders.get("project")
    if project is None or models_dir is None or project.read_only:
        return []
    entries = history_of(project)
    made_current = {path: verdict.number for path, verdict in verdicts_in(entries, library).items()
                    if verdict.by_round and not verdict.rejected
                    and entries[verdict.number].get("action") in MADE_CURRENT}
    if not made_current:
        return []
    current, here = _current_paths(session), _resolved(models_dir)
    found = []
    for info in library.list():
        path = _resolved(info.path)
        if (info.source == "project" and path in made_current and path not in current
                and str(Path(path).parent) == here):
            found.append((made_current[path], info))
    return [info for _, info in sorted(found, key=lambda pair: pair[0], reverse=True)]


def removable_versions(session, keep: int = DEFAULT_KEEP, accepted: list | None = None
                       ) -> list[OldVersion]:
    """The versions of ``accepted`` (default: ``accepted_versions`` now) beyond the last
    ``keep`` that nothing uses, oldest first (the order they are removed in: each child is
    relinked once, to what stays)."""
    accepted = accepted_versions(session) if accepted is None else accepted
    older = accepted[max(0, keep):]
    if not older:
        return []
    project, listed, others = session.project, session.library.list(), other_sessions(session)
    kept = models_in_use(session, listed, relocation(project.history(), project.models_dir),
                         parents=False)  # (parents: their children are relinked past them)
    return [OldVersion(info, folder_size(info.path)) for info in reversed(older)
            if _resolved(info.path) not in kept
            and in_use_refusal(session, info, others) is None]


def remove_versions(session, versions: list[OldVersion], keep: int
                    ) -> tuple[list[OldVersion], list[str]]:
    """Delete the folders of ``versions`` that are still removable now with ``keep`` (the
    list may have been shown a while ago: a version used since stays), each through
    Remove's path and logged. Refused while work runs or the project is read-only. Returns
    the versions removed and one line per folder that could not be."""
    refusal = removal_refused(session)
    if refusal is not None:
        raise UserError(refusal)
    still = {_resolved(found.info.path) for found in removable_versions(session, keep)}
    removed, problems = [], []
    for found in versions:
        if _resolved(found.info.path) not in still:
            continue
        try:
            remove_model(session, found.info)  # (hidden, then deleted; logged; relinked)
        except (UserError, OSError) as error:
            problems.append(f"{found.info.name}: {error}")
            continue
        removed.append(found)
    return removed, problems


def removal_refused(session) -> str | None:
    """Why no old version can be removed now, or None: while any work runs (a Train round
    reads its parent, a prediction its model, a copy its folder), or while the project is
    read-only (the window that writes it may be using them)."""
    if engine_work_running():
        return ("old model versions cannot be removed while work runs in the background (a "
                "Train round or a prediction may be reading them); remove them when that "
                "has finished")
    project = session.project
    if project is not None and project.read_only:
        return (f"the project {project.path} is open in another window, which may use its "
                "old model versions: remove them there")
    return None


def versions_summary(versions: list[OldVersion]) -> str:
    """"5, 1.2 GB": how many versions and the disk they hold, for the button."""
    return f"{len(versions)}, {size_text(sum(found.size for found in versions))}"


def versions_question(versions: list[OldVersion], keep: int, shown: int = 12) -> str:
    """The question before removing: which versions (name, date, size; the first
    ``shown``), where, the disk freed, and what stays."""
    lines = listed([found.label for found in versions], shown)
    folder = versions[0].info.path.parent if versions else ""
    total = size_text(sum(found.size for found in versions))
    return (f"Delete {len(versions)} earlier accepted version(s) of the project's model, "
            f"{total} in all, from\n{folder}?\n\n" + "\n".join(lines)
            + f"\n\nKept: the current model and the last {keep} version(s) before it, and "
            "any model in use or set as default. The lineage of the models kept skips the "
            "removed versions.")


def _current_paths(session) -> set[str]:
    """The resolved folders of the session's current model and the project's: the
    version the N kept are counted before (a ref the library cannot find names none)."""
    named = [getattr(session.model, "path", None)]
    recorded = session.project.current_model
    if recorded:
        try:
            named.append(session.library.get(recorded).path)
        except (UserError, OSError, ValueError):
            named.append(recorded if Path(recorded).is_absolute() else None)
    return {_resolved(path) for path in named if path}


def _resolved(path) -> str:
    return str(Path(path).resolve())
