"""What the Train panel offers for Roll back (no widgets here): the current model's ancestors
and the project's models, less the rounds the user rejected and the round still waiting
for its verdict (``waiting_round``).

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
    entries = history_of(session.project)
    turned_down = {path for path, verdict in verdicts_in(entries, library).items()
                   if verdict.rejected}
    seen = set() if current is None else {current.path}
    # (the history's waiting round too: the panel may be busy with another round, or
    # not have read it back yet)
    recorded = waiting_round(entries, library)
    for folder in (waiting, recorded and recorded[1]):
        if folder:
            turned_down.add(str(Path(folder).resolve()))
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
    return verdicts_in(history_of(project), library)


def history_of(project) -> list[dict]:
    """The project's history (none without a project), read with its own models where they
    are now: after the folder was moved or copied, its history names them by their old
    paths (``moved_history``)."""
    return [] if project is None else MovedHistory(project).history()


def verdicts_in(entries: list[dict], library) -> dict[str, Verdict]:
    """``model_verdicts`` of a history's ``entries``."""
    verdicts: dict[str, Verdict] = {}
    for number, entry in enumerate(entries):
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


def waiting_round(entries: list[dict], library) -> tuple[dict, str] | None:
    """The round of a history's ``entries`` still waiting for its verdict: its "fine-tune"
    entry and its folder (resolved, under its latest name); None when none waits.

    The newest round waits while its folder is there and nothing was said after it of
    any model (Accept, Reject, another model made current) and it was not removed: as
    the Train panel does, which sets a waiting round aside once another model is chosen.
    A model made current again under a new name (its rename, logged just before) is no
    choice, nor is opening the project (it logs its model only when that changes)."""
    waiting, renamed = None, ()
    for entry in entries:
        action, model = entry.get("action"), entry.get("model")
        if not model:
            continue
        if action == "fine-tune":
            waiting = (entry, _model_path(model, library))
        elif waiting is None:
            pass
        elif action == "set current model" and model in renamed:
            pass
        elif action in VERDICTS:
            waiting = None
        elif action == REMOVED and _model_path(model, library) == waiting[1]:
            waiting = None
        elif action == "rename model" and waiting[1] in _names_before(entry, library):
            waiting = (waiting[0], _model_path(model, library))
        renamed = (model, entry.get("ref")) if action == "rename model" else ()
    if waiting is None or not Path(waiting[1]).is_dir():
        return None
    return waiting


def _names_before(entry: dict, library) -> set[str]:
    """The resolved folders a "rename model" entry names as the model's former ones."""
    return {_model_path(entry[key], library) for key in ("renamed_from", "ref_before")
            if entry.get(key)}


def _follow_rename(verdicts: dict[str, Verdict], entry: dict, library) -> None:
    """The last verdict on a model, logged under its former path or its former ref (which
    no longer resolve to one folder), is the renamed model's."""
    before = _names_before(entry, library)
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
