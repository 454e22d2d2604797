"""What the Train panel offers for Roll back (no widgets here): the current model's ancestors
and the project's models, less the rounds the user rejected.

The project's history names a model by its folder path or by a library ref ("project:x"),
as it was called then: reading it follows the renames it logged ("rename model"), so that a
rejected round stays rejected, and a used one used, under its new name.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from unet_studio.app.errors import UserError
from unet_studio.app.qt.moved_history import MovedHistory

VERDICTS = ("reject model", "accept model", "set current model")
REMOVED = "remove model"  # a model folder deleted by the app: what was said of it ends


def earlier_versions(session, waiting: Path | None = None) -> list:
    """ModelInfos to roll back to, the newest ancestor first: the current model's lineage,
    then every project model (the rounds of this project), each once, never the current
    one, one the user rejected, nor ``waiting``: the folder of a round still waiting for
    its verdict (no earlier version: rolling back to it was an Accept without one)."""
    library, current = session.library, session.model
    versions = []
    if current is not None:
        try:
            ref = current.ref if current.source != "folder" else current.path
            versions = library.lineage(ref)[1:]
        except UserError:
            versions = []
    versions += [m for m in library.list() if m.source == "project"]
    turned_down = rejected_models(session.project, library)
    seen = set() if current is None else {current.path}
    if waiting is not None:
        turned_down.add(str(Path(waiting).resolve()))
    offered = []
    for info in versions:
        if info.path not in seen and str(Path(info.path).resolve()) not in turned_down:
            seen.add(info.path)
            offered.append(info)
    return offered


class Verdict(NamedTuple):
    """What the history last said of one model folder: the entry's number, whether that was
    a Reject, and whether a round of this project wrote the folder (its "fine-tune" entry)."""

    number: int
    rejected: bool
    by_round: bool


def rejected_models(project, library) -> set[str]:
    """Resolved paths of the project's fine-tuned models the user turned down (Reject) and
    has not used since: not earlier versions of anything, so not offered for Roll back.
    They stay on disk (and in the Models panel), should the user change their mind, until
    the user removes them (the Models panel's "Remove rejected rounds", ``rejected_rounds``)."""
    return {path for path, verdict in model_verdicts(project, library).items()
            if verdict.rejected}


def model_verdicts(project, library) -> dict[str, Verdict]:
    """The last verdict on each model folder the project's history names, by resolved path,
    following the renames it logged, wherever the project's folder is now. A "fine-tune" entry starts a folder's record afresh
    and a removal ends it: a folder made later at the same path is another model."""
    if project is None:
        return {}
    verdicts: dict[str, Verdict] = {}
    # (read with the project's own models where they are now: after the folder was moved or
    # copied, its history names them by their old paths, ``moved_history``)
    for number, entry in enumerate(MovedHistory(project).history()):
        action, model = entry.get("action"), entry.get("model")
        if not model:
            continue
        if action == "rename model":
            _follow_rename(verdicts, entry, library)
        elif action == REMOVED:
            verdicts.pop(_model_path(model, library), None)
        elif action == "fine-tune":
            verdicts[_model_path(model, library)] = Verdict(number, False, True)
        elif action in VERDICTS:
            path = _model_path(model, library)
            by_round = path in verdicts and verdicts[path].by_round
            verdicts[path] = Verdict(number, action == "reject model", by_round)
    return verdicts


def _follow_rename(verdicts: dict[str, Verdict], entry: dict, library) -> None:
    """The last verdict on a model, logged under its former path or its former ref (which
    no longer resolve to one folder), is the renamed model's."""
    before = {_model_path(entry[key], library) for key in ("renamed_from", "ref_before")
              if entry.get(key)}
    found = [verdicts.pop(key) for key in before if key in verdicts]
    if found:
        verdicts[_model_path(entry["model"], library)] = max(found)


def _model_path(logged: str, library) -> str:
    """The resolved folder of a model as the history names it: a path, or a library ref
    ("project:x", logged when a listed model is made current)."""
    if not Path(logged).exists():
        try:
            return str(Path(library.get(logged).path).resolve())
        except (UserError, OSError, ValueError):  # (a model removed, renamed or broken since)
            pass
    return str(Path(logged).resolve())
