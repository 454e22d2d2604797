"""What the model actions do beyond the library (no widgets): a model chosen is checked
before it becomes current; every open window and its project follow a rename, and none
loses its current model to a removal (``open_sessions``); the copies
run as generators in a worker thread (a model's weights can be hundreds of MB: never copied
on the GUI thread).
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from unet_studio.app.errors import UserError
from unet_studio.app.model_identity import identity_of
from unet_studio.app.qt.open_sessions import other_sessions
from unet_studio.app.qt.train_logic import checkpoint_dir_for
from unet_studio.app.qt.train_versions import REMOVED
from unet_studio.app.qt.workers import engine_work_running

log = logging.getLogger(__name__)


def choose_model(session, model) -> bool:
    """Make ``model`` (a folder path, a ref or a ModelInfo) the session's current model once
    it passes Import's check (``ModelLibrary.checked``: config, weights, their shapes; the
    weights' header is read, not the weights). A broken one is refused at once with a
    warning naming its file and the problem, and the current model stays: not chosen
    to fail at Run, nor mistaken there for an image problem (a 5-channel config with
    1-channel weights read as "the image has 1 channel"). Whether it was chosen."""
    try:
        info = session.library.checked(model)
    except UserError as error:
        current = session.model
        stays = f"; the model stays {current.name}" if current is not None else ""
        session.host.notify(f"Model not used: {error}{stays}", "warning")
        return False
    session.set_model(info)
    return True


def rename_model(session, info, new_name: str):
    """Rename a user or project model (see ``ModelLibrary.rename_model``) and make what
    every open window that holds it follows (``_follow_in_session``): its current model,
    its open project's current model and history, a cancelled round's checkpoints; then its
    panels hear ``model_renamed`` and refill their lists. A user model serves every window
    of the process: one left naming the old folder failed at its next Run. Refused while
    any model work runs: it may be reading this folder (a prediction loads its model when
    it starts, a round saves next to its parent's name). Returns the renamed ModelInfo."""
    if engine_work_running():
        raise UserError(f"{info.name} cannot be renamed while work runs in the background "
                        "(a prediction, fine-tuning, a copy or an export may be reading it); "
                        "rename it when that has finished")
    renamed = session.library.rename_model(info.ref, new_name)
    followed: set[Path] = set()  # (the projects followed: each logs the rename once)
    _follow_in_session(session, info, renamed, followed)
    for other in other_sessions(session):
        if not _holds(other, info):
            continue
        was_current = _is_current_in(other, info)
        _follow_in_session(other, info, renamed, followed)
        if was_current:
            other.host.notify(f"your model {info.name} was renamed to {renamed.name} "
                              "in another window")
    return renamed


def remove_model(session, info) -> None:
    """Delete a user or project model (see ``ModelLibrary.remove_model``); a project model's
    removal is logged in the project's history, so that reading it never takes a later
    folder of the same name for the one removed (``train_versions.model_verdicts``). The
    other windows refill their lists. Refused (``removal_refused``) while it is in use."""
    refusal = removal_refused(session, info)
    if refusal is not None:
        raise UserError(refusal)
    session.library.remove_model(info.path)
    if session.project is not None and info.source == "project":
        session.project.log(REMOVED, model=str(info.path))
    _remove_checkpoints_of(session.project, info)
    for other in other_sessions(session):
        if _holds(other, info):
            other.models_listed.emit()  # (no list may offer it any more)


def _remove_checkpoints_of(project, info) -> None:
    """The checkpoints a stopped round from the removed model kept in ``project`` (to
    resume it: no round can start from that model again). Left to the project's writer
    when this window only reads it (its Models panel offers them there)."""
    if project is None or project.read_only:
        return
    folder = checkpoint_dir_for(project, info)
    if folder is not None and folder.is_dir():
        try:
            shutil.rmtree(folder)
        except OSError as error:  # (offered again by "Remove … left-over checkpoints")
            log.warning("checkpoints %s of the removed model stay: %s", folder, error)


def removal_refused(session, info) -> str | None:
    """Why ``info`` cannot be removed now, or None: while any model work runs (a prediction
    or a round may be reading it, a round saves its lineage next to it: Rename refuses
    then too), or while a window uses it as its current model (deleted under it, its next
    Run and Train failed "no model"). Windows of other processes cannot be known here."""
    if engine_work_running():
        return (f"{info.name} cannot be removed while work runs in the background "
                "(a prediction, fine-tuning, a copy or an export may be reading it); "
                "remove it when that has finished")
    return in_use_refusal(session, info)


def in_use_refusal(session, info, others: list | None = None) -> str | None:
    """Why ``info`` cannot be removed as a window's current model, or None (Remove's rule
    without its check of work running: a list of what may be removed asks it too, with
    ``others``, the other windows' sessions, found once for all its models)."""
    if _is_current_in(session, info):
        return "this model is in use; choose another one first"
    others = other_sessions(session) if others is None else others
    if any(_is_current_in(other, info) for other in others):
        return (f"{info.name} is in use in another window (its current model); choose "
                "another model there first")
    return None


def _follow_in_session(session, old, new, followed: set) -> None:
    """What ``session`` holds of ``old`` names ``new``: its project (once per project), its
    current model (the same model: not a change of model, nothing re-run); its panels
    hear ``model_renamed`` and ``models_listed``."""
    project = session.project
    if project is not None and Path(project.path).resolve() not in followed:
        followed.add(Path(project.path).resolve())
        _follow_in_project(project, old, new)
    if _is_current_in(session, old):
        session.model = new
    session.model_renamed.emit(old, new)
    session.models_listed.emit()


def _holds(session, info) -> bool:
    """Whether ``info`` (a user or project model) is in ``session``'s library under its
    ref: the same user folder (or project models folder) as the window that changed it."""
    folder = session.library.folders.get(info.source)
    return folder is not None and _same(folder, info.path.parent)


def _is_current_in(session, info) -> bool:
    current = session.model
    return current is not None and _same(current.path, info.path)


def _follow_in_project(project, old, new) -> None:
    """The rename is logged (the history names models by path or ref: reading it follows
    renames, see ``train_versions.rejected_models``); the project's current model and the
    checkpoints of a round from the model (kept to resume it) take the new name."""
    if project is None:
        return
    project.log("rename model", model=str(new.path), renamed_from=str(old.path),
                ref=new.ref, ref_before=old.ref)  # fmt: skip
    if project.current_model in (old.ref, str(old.path)) and _is_current_of(project, new):
        # (with its identity: dropped, the ref alone would follow a later model of its name)
        project.set_current_model(new.ref, project.current_model_identity or identity_of(new))
    before, after = checkpoint_dir_for(project, old), checkpoint_dir_for(project, new)
    if before.is_dir() and not after.exists():
        try:
            os.rename(before, after)
        except OSError as error:  # (a round from it starts afresh instead of resuming)
            log.warning("checkpoints %s keep their name: %s", before, error)


def _is_current_of(project, model) -> bool:
    """Whether ``model`` is the project's current model by identity too: a project copied
    from another user names "user:nuclei-A", which at this user may be another model."""
    recorded = project.current_model_identity
    return not recorded or identity_of(model) == recorded.lower()


def _same(path, other) -> bool:
    return Path(path).resolve() == Path(other).resolve()


def iter_export(library, ref: str, destination: Path):
    """Export in a worker thread; returns the new model folder (see ``export_model``)."""
    yield "exporting"
    return library.export_model(ref, destination)


def iter_duplicate(library, ref: str):
    """Duplicate in a worker thread; returns the copy's ModelInfo."""
    yield "duplicating"
    return library.duplicate_model(ref)


def iter_import(library, folder: Path):
    """Import in a worker thread; returns the imported ModelInfo. A folder that cannot be
    imported is refused with :func:`import_problem`'s message; the very same model already
    in the library (``AlreadyInLibrary``) with its own, which names it."""
    from unet_studio.app.model_library import AlreadyInLibrary

    yield "importing"
    try:
        return library.import_model(folder)
    except AlreadyInLibrary:
        raise
    except UserError as error:
        raise UserError(import_problem(folder, str(error))) from None


def iter_import_told(library, folder: Path):
    """``iter_import`` with what to tell after it: returns ``(info, text, new)``: the model
    imported (``new``) or the very same one the library had already (not copied again, said
    as information, not as an error: nothing went wrong), and the sentence for the user."""
    from unet_studio.app.model_library import AlreadyInLibrary

    try:
        info = yield from iter_import(library, folder)
    except AlreadyInLibrary as already:
        return already.info, str(already), False
    return info, imported_text(folder, info), True


def imported_text(folder: Path, info) -> str:
    """What to tell after ``folder`` was imported as ``info``: where the model's name was
    taken, that it was, and the name the copy got (two models are never listed under one
    name: the user should know which one is the new one)."""
    from unet_studio.app.model_folder import model_info

    try:
        own_name = model_info(folder, source="folder").name
    except UserError:  # (the folder gone since: nothing more to say)
        own_name = info.name
    if own_name == info.name:
        return f"imported {info.name} as {info.ref}"
    where = "the project's models" if info.source == "project" else "your models"
    return (f"a model named {own_name} is already in {where}: imported this one as "
            f"{info.name} ({info.ref})")


def import_problem(folder: Path, message: str) -> str:
    """The message of a refused import with the problem where a notification shows it:
    the file named from the folder imported ("nuclei/config.json: ..."), not after the
    whole path it lies in (which is said last)."""
    text = message.removesuffix(" (not imported)")
    parent = str(folder.parent).rstrip(os.sep) + os.sep
    if text.startswith(parent):
        text = text[len(parent):]
    return f"Not imported: {text} (in {folder.parent})"
