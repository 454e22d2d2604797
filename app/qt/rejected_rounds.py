"""Removing the model folders of rejected Train rounds (no widgets here).

Every round saves a model folder (4.4 MB for the default network, hundreds of MB for a big
one) before the user gives the verdict, and Reject keeps it: the Train panel only stops
offering it for Roll back (``train_versions.rejected_models``). After a day of rounds
that is hundreds of MB of models the user turned down.

Why they are removed when the user asks (the Models panel's "Remove rejected rounds (N,
X MB)…", confirmed with the list of names) and never automatically: Reject means "keep the
current model", not "delete this one", and the verdict rests on a few held-out crops, so a
rejected round is sometimes the one the user goes back to (the Models panel lists it, and
Use takes the Reject back). A round's weights are minutes to hours of training: deleting
them is the user's call. The button says how many there are and how much disk they hold,
so the growth is seen and freed in one click.

What is offered, and only that: folders in this project's ``models/`` that a round of this
project wrote (a "fine-tune" entry in its history) and whose last verdict is Reject,
renames followed, and followed to where the project folder is now when it was moved or
copied (``moved_history``: the history names them by their old paths); never the current
model, the project's or the default model, nor a model that another one was fine-tuned
from (its lineage names it), each also by its old path. Another project's
history could name a folder here by its path, but no list of projects is kept to look in:
only this project's own rounds are offered, each by name, and the user decides.

The same button offers the checkpoints that cancelled or stopped rounds left behind
(``leftover_checkpoints``; the button's texts are ``models_panel_cleanup``'s).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from unet_studio.app.errors import InputFileError, UserError
from unet_studio.app.qt.model_actions import remove_model
from unet_studio.app.qt.moved_history import relocation
from unet_studio.app.qt.train_versions import model_verdicts
from unet_studio.app.qt.workers import engine_work_running


@dataclass(frozen=True)
class RejectedRound:
    """A rejected round's model folder that may be removed: its ModelInfo and its size."""

    info: object  # ModelInfo
    size: int  # bytes on disk


def removable_rounds(session) -> list[RejectedRound]:
    """The rejected rounds of the session's project that nothing uses (see the module's
    docstring), oldest first (by folder name: a round's name ends with its date and time)."""
    project, library = session.project, session.library
    models_dir = library.folders.get("project")
    if project is None or models_dir is None or project.read_only:
        return []  # (read-only: another window writes the project and may use them)
    rejected = {path for path, verdict in model_verdicts(project, library).items()
                if verdict.rejected and verdict.by_round}
    if not rejected:
        return []
    listed = library.list()
    # (a moved or copied project's history names what it uses by the old paths)
    kept = models_in_use(session, listed, relocation(project.history(), project.models_dir))
    rounds = []
    for info in listed:
        path = _resolved(info.path)
        if (info.source == "project" and path in rejected and path not in kept
                and _resolved(info.path.parent) == _resolved(models_dir)):
            rounds.append(RejectedRound(info, folder_size(info.path)))
    return sorted(rounds, key=lambda found: found.info.path.name)


def models_in_use(session, listed: list, relocate, parents: bool = True) -> set[str]:
    """Resolved folders that must stay: the session's current model, the project's current
    model, the default model, and (``parents``) every parent named by a listed model's
    lineage. Each also where it is now (``relocate``), should it name a model of this
    project by the path it had before the project folder was moved or copied. (Old
    accepted versions, ``old_versions``, are parents by nature: their removal relinks
    their children's lineage to the version before.)"""
    library, kept = session.library, set()
    named = [getattr(session.model, "path", None), session.project.current_model]
    default = library.default()
    named.append(None if default is None else default.path)
    if parents:
        named += [info.parent for info in listed if info.parent]
    named += [relocate(str(model)) for model in filter(None, named)]
    for model in filter(None, named):
        try:
            kept.add(_resolved(library.get(model).path))
        except (UserError, InputFileError, OSError, ValueError):
            kept.add(_resolved(model))  # (gone or unreadable: kept by its name anyway)
    return kept


def remove_rounds(session, rounds: list[RejectedRound]) -> tuple[list[RejectedRound], list[str]]:
    """Delete the folders of ``rounds`` that are still removable now (the list may have been
    shown a while ago: a round used since stays), each logged in the project's history.
    Refused while any model work runs (a copy or an export may be reading one). Returns the
    rounds removed and one line per folder that could not be."""
    if engine_work_running():
        raise UserError("rejected rounds cannot be removed while work runs in the background "
                        "(a prediction, fine-tuning, a copy or an export may be reading them); "
                        "remove them when that has finished")
    still = {_resolved(found.info.path) for found in removable_rounds(session)}
    removed, problems = [], []
    for found in rounds:
        if _resolved(found.info.path) not in still:
            continue
        try:
            remove_model(session, found.info)  # (logged in the project's history)
        except (UserError, OSError) as error:
            problems.append(f"{found.info.name}: {error}")
            continue
        removed.append(found)
    return removed, problems


def folder_size(folder: Path) -> int:
    """Bytes of the files under ``folder`` (0 for what cannot be read)."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def size_text(size: int) -> str:
    """"13.2 MB", "1.4 GB", "880 KB": decimal units, as file managers show sizes."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{max(1, round(size / 1e3))} KB" if size else "0 KB"


def rounds_summary(rounds: list[RejectedRound]) -> str:
    """"3, 13.2 MB": how many rounds and the disk they hold, for the button."""
    return f"{len(rounds)}, {size_text(sum(found.size for found in rounds))}"


CANNOT_BE_UNDONE = "\n\nThis cannot be undone."


def confirmation_text(rounds: list[RejectedRound], shown: int = 12) -> str:
    """The question before removing: which models (by name, the first ``shown``), where,
    how much disk is freed, and that it cannot be undone."""
    return rounds_question(rounds, shown) + CANNOT_BE_UNDONE


def listed(labels: list[str], shown: int = 12) -> list[str]:
    """The lines of a question listing what it removes: the first ``shown`` ``labels``,
    indented, then how many more."""
    lines = [f"  {label}" for label in labels[:shown]]
    if len(labels) > shown:
        lines.append(f"  and {len(labels) - shown} more")
    return lines


def rounds_question(rounds: list[RejectedRound], shown: int = 12) -> str:
    """:func:`confirmation_text` but its last line (a question that asks more goes on)."""
    names = listed([f"{found.info.name} ({size_text(found.size)})" for found in rounds], shown)
    folder = rounds[0].info.path.parent if rounds else ""
    total = size_text(sum(found.size for found in rounds))
    return (f"Delete the {len(rounds)} model(s) of the Train rounds you rejected and have not "
            f"used since, {total} in all, from\n{folder}?\n\n" + "\n".join(names))


def _resolved(path) -> str:
    return str(Path(path).resolve())
