"""The checkpoints that stopped Train rounds left in the project, offered for removal by the
Models panel with the rejected rounds (no widgets here).

Why they stay at all: Cancel (or a kill, a crash) keeps the round's ``best`` and ``last``
checkpoints so that Train from the same model resumes it ("the best checkpoint was kept,
training again resumes it"), and a round from an untrained network that beat nothing yet
keeps its steps for the next one. They are only ever read again by a round from that very
model, and they are big (the model twice over, ``last`` with the optimiser's state: 230 MB
for a ResNet-18 U-Net). Once the user has moved on to another model they sat unseen.

What is offered: every checkpoint folder in the project's ``training/`` but those of a
model current in a window (this one, another one of this process, the project's own): a
round from it may resume them, or be writing them now. Nothing while the project is
read-only (another window writes it, and may be training), and removal is refused while any
model work runs. Offered, not removed: a stopped round is minutes to hours of training that
going back to its model resumes, so deleting it is the user's call. Those of a project
model that was removed are deleted without asking (the Remove itself, or the sweep at open:
``round_checkpoints``), as nothing can resume them.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from unet_studio.app.errors import InputFileError, UserError
from unet_studio.app.model_library import SOURCES
from unet_studio.app.qt.open_sessions import other_sessions
from unet_studio.app.qt.rejected_rounds import folder_size, size_text
from unet_studio.app.qt.train_round import checkpoint_dir_for
from unet_studio.app.qt.workers import engine_work_running
from unet_studio.app.round_checkpoints import CHECKPOINT_PREFIX, checkpoint_folders


@dataclass(frozen=True)
class LeftoverCheckpoint:
    """A stopped round's checkpoint folder nothing current resumes: where, from which model
    (its name; None when no model listed or current has it), and its size."""

    folder: Path
    parent_name: str | None
    size: int

    @property
    def label(self) -> str:
        """"a stopped round from r18": its model's name, else the name of the model's
        folder its own name records (a model chosen by its folder is listed nowhere)."""
        return f"a stopped round from {self.parent_name or parent_folder_name(self.folder)}"


def parent_folder_name(folder: Path) -> str:
    """"r18" for ``from-folder-r18``: the model's folder name the checkpoint folder was
    named after (with "-" for what a folder name may not hold), or its whole name."""
    rest = folder.name.removeprefix(CHECKPOINT_PREFIX)
    source, _, name = rest.partition("-")
    return name if source in PARENT_SOURCES and name else folder.name


PARENT_SOURCES = (*SOURCES, "folder")  # (``ModelInfo.source``: a library's, or chosen by path)


def leftover_checkpoints(session) -> list[LeftoverCheckpoint]:
    """The checkpoint folders of the session's project that no current model may resume
    (see the module's docstring), by folder name."""
    project = session.project
    if project is None or project.read_only:
        return []  # (read-only: the window that writes it may be training from any of them)
    try:
        folders = checkpoint_folders(project.path)
    except OSError:  # (a folder that cannot be listed: nothing to offer)
        return []
    if not folders:
        return []
    current = _current_models(session)
    kept = {_checkpoint_name(project, info) for info in current}
    names = {_checkpoint_name(project, info): info.name
             for info in session.library.list() + current}  # (the current ones win)
    return [LeftoverCheckpoint(folder, names.get(folder.name), folder_size(folder))
            for folder in folders if folder.name not in kept]


def _current_models(session) -> list:
    """The ModelInfos a round into this project may start from now: this window's current
    model, that of every other window with the project open (read-only there, its rounds
    still checkpoint here), and the project's (by its ref; one that cannot be found keeps
    nothing: no round can start from it)."""
    here = Path(session.project.path).resolve()
    models = [session.model] + [other.model for other in other_sessions(session)
                                if other.project is not None
                                and Path(other.project.path).resolve() == here]
    recorded = session.project.current_model
    if recorded:
        try:
            models.append(session.library.get(recorded))
        except (UserError, InputFileError, OSError, ValueError):
            pass
    return [info for info in models if info is not None]


def _checkpoint_name(project, info) -> str | None:
    folder = checkpoint_dir_for(project, info)
    return None if folder is None else folder.name


def remove_checkpoints(session, found: list[LeftoverCheckpoint]
                       ) -> tuple[list[LeftoverCheckpoint], list[str]]:
    """Delete the folders of ``found`` that are still left over now (the list may have been
    shown a while ago: one whose model was chosen since stays). Refused while any model
    work runs (a round may be writing one). Returns those removed and one line per folder
    that could not be."""
    if engine_work_running():
        raise UserError("left-over checkpoints cannot be removed while work runs in the "
                        "background (fine-tuning may be writing them); remove them when "
                        "that has finished")
    still = {left.folder for left in leftover_checkpoints(session)}
    removed, problems = [], []
    for left in found:
        if left.folder not in still:
            continue
        try:
            shutil.rmtree(left.folder)
        except OSError as error:
            problems.append(f"{left.folder}: {error}")
            continue
        removed.append(left)
    return removed, problems


def confirmation_lines(found: list[LeftoverCheckpoint], shown: int = 12) -> str:
    """What the question before removing says of the checkpoints: which, where, their size,
    and what is lost (resuming those rounds)."""
    lines = [f"  {left.label} ({size_text(left.size)})" for left in found[:shown]]
    if len(found) > shown:
        lines.append(f"  and {len(found) - shown} more")
    folder = found[0].folder.parent if found else ""
    total = size_text(sum(left.size for left in found))
    return (f"Delete the checkpoints of {len(found)} cancelled or stopped Train round(s), "
            f"{total} in all, from\n{folder}?\n\n" + "\n".join(lines)
            + "\n\nTraining those models again then starts a new round instead of resuming.")
