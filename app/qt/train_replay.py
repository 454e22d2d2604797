"""The project's replay buffer: examples of accepted earlier rounds, revisited by each new
round so that it does not forget images that left the project or lost their reviewed
marks. Apart from ``train_logic`` because it is a file of the project's to read, follow
through renames and add to, with its own failure rule: an unreadable buffer never stops a
round or an Accept.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from unet_studio.app.errors import UserError
from unet_studio.app.round_checkpoints import TRAINING_DIR  # (checkpoints, replay buffer)

# Held while the buffer is read, changed and written back: a window that opened the project
# read-only (another window writes it) still adds its accepted rounds' examples to the same
# file, and two Accepts at once would each write back what they read, the other's examples lost.
REPLAY_LOCK = "replay.lock"


@contextlib.contextmanager
def replay_locked(folder: Path) -> Iterator[None]:
    """Hold the replay buffer of the training folder ``folder`` (made if missing) against
    other windows and processes changing it meanwhile: an advisory lock on a file beside it,
    waited for (a change takes well under a second). Where the system has no ``flock``
    (Windows) it holds nothing, as before."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / REPLAY_LOCK, "a+b")  # noqa: SIM115 (closed below)
    except OSError:  # (a folder nobody may write: its buffer is not changed by anyone)
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def fresh_replay(replay, examples) -> list:
    """The replay examples not superseded by this round's data (the same image's newer
    corrections are learnt from directly)."""
    names = {example.name for example in examples}
    return [example for example in replay if not example.name or example.name not in names]


def load_replay(project):
    """The project's replay buffer (empty without a project or file)."""
    from unet_studio.models.training import ReplayBuffer

    if project is None:
        return ReplayBuffer()
    folder = project.path / TRAINING_DIR
    try:
        return ReplayBuffer.load(folder) if (folder / "replay.npz").exists() else ReplayBuffer()
    except (OSError, ValueError) as error:
        raise UserError(f"cannot read the replay buffer in {folder}: {error}") from None


def rename_in_replay(project, old: str, new: str) -> None:
    """An image was renamed: its examples in the project's replay buffer follow (a round
    replaces an image's older example by name)."""
    if project is None or not (project.path / TRAINING_DIR / "replay.npz").exists():
        return
    with replay_locked(project.path / TRAINING_DIR):
        buffer = load_replay(project)
        if buffer.rename(old, new):
            buffer.save(project.path / TRAINING_DIR)


def drop_from_replay(project, name: str) -> None:
    """Image ``name`` was removed from the project: its examples of earlier rounds go from
    the replay buffer too (the buffer keeps images that merely left, not ones the user took
    out of training)."""
    if project is None or not (project.path / TRAINING_DIR / "replay.npz").exists():
        return
    with replay_locked(project.path / TRAINING_DIR):
        buffer = load_replay(project)
        if buffer.drop(name):
            buffer.save(project.check_folder() / TRAINING_DIR)


def remember_examples(project, examples) -> Path | None:
    """Add an accepted round's examples to the project's replay buffer. An unreadable buffer
    is renamed aside (returned) and a new one started: kept in place it would refuse every
    later round and every accept, and its examples cannot be had back anyway.

    Examples that cannot be written (a full disk, a folder gone) stay in the project's
    ``unkept_replay``, in memory: later rounds revisit them all the same, and the next
    write (another Accept, a round's start) takes them along."""
    if project is None:
        return None
    unkept = [*project.unkept_replay, *examples]
    try:
        aside = _add_to_buffer(project, unkept)
    except BaseException:
        project.unkept_replay = unkept
        raise
    project.unkept_replay = []
    return aside


def _add_to_buffer(project, examples) -> Path | None:
    folder = project.check_folder() / TRAINING_DIR  # (FolderGone: never a half project)
    with replay_locked(folder):
        aside = None
        try:
            buffer = load_replay(project)
        except UserError:
            from unet_studio.models.training import ReplayBuffer

            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            aside = folder / f"replay-unreadable-{stamp}.npz"
            (folder / "replay.npz").rename(aside)
            buffer = ReplayBuffer()
        buffer.add(examples)
        buffer.save(folder)
    return aside


def replay_for_round(project, notify) -> list:
    """The replay examples a new round revisits, those kept in memory for a full disk
    (``unkept_replay``: written now if they can be) included; an unreadable buffer is told
    as a warning and the round learns without it (one bad file must not stop every round)."""
    if project is not None and project.unkept_replay:
        try:
            remember_examples(project, [])
        except (UserError, OSError, ValueError):
            pass  # (still in memory: revisited below, written at the next try)
    try:
        kept = load_replay(project).examples
    except UserError as error:
        notify(f"{error}; this round learns without the examples of earlier rounds", "warning")
        kept = []
    return [*kept, *([] if project is None else project.unkept_replay)]
