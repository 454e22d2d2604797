"""The folder ``unet-studio finetune`` writes its model to: checked before the run, held by one
run at a time, and checked again at save time.

Two runs writing one ``-o`` folder at once would share ``OUT/.checkpoints`` (each resuming or
discarding the other's, the first deleting it when it ends) and the second would silently
replace the first's model. So a run holds ``OUT/.finetune.lock`` (created with ``O_EXCL``,
naming its process) from its first check to its save; a lock whose process is gone (killed,
a power cut) is stale and taken over.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
from pathlib import Path

from unet_studio.app.errors import UserError

LOCK_FILE = ".finetune.lock"


def check_output(output: Path, parent: dict | None, overwrite: bool) -> None:
    """Never write over the parent model, nor over another model unless asked to; and find
    out now, not after the training, when the folder cannot take the model."""
    from unet_studio.app.atomic import check_folder_writable, refuse_unsafe_output
    from unet_studio.models.weights import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE

    if parent is not None and output.resolve() == Path(parent["path"]).resolve():
        raise UserError(f"{output} is the model being fine-tuned; choose another -o folder")
    if (output / CONFIG_FILE).exists() and not overwrite:
        raise UserError(f"{output} already holds a model; use --overwrite or another -o folder")
    check_folder_writable(output)
    for name in (WEIGHTS_FILE, CONFIG_FILE, CARD_FILE):  # (each is replaced by a new file)
        refuse_unsafe_output(output / name)


def replacing_text(output: Path) -> str | None:
    """What replacing the model in ``output`` does, when it is one of the user's library:
    projects and rounds record the model they use with its identity (its weights' hash), so
    the new weights under its name are not taken for it. None for any other folder."""
    from unet_studio.app.model_library import user_home
    from unet_studio.models.weights import CONFIG_FILE

    library = user_home() / "models"
    if not (output / CONFIG_FILE).is_file() or output.resolve().parent != library.resolve():
        return None
    return (f"replacing user:{output.name} of your model library: projects that use it will "
            "not find it once it has new weights (they say a different model has that name "
            "here and use the default model); choose another -o name to keep it for them")


def check_still_free(output: Path, overwrite: bool) -> None:
    """At save time: a model that appeared in ``output`` while this run trained (written by
    another program: the lock keeps other finetunes out) is not replaced without
    ``overwrite``. The run's weights stay in its checkpoint, so nothing trained is lost."""
    from unet_studio.models.weights import CONFIG_FILE

    if (output / CONFIG_FILE).exists() and not overwrite:
        raise UserError(f"{output}: a model appeared there while this run trained; it is kept, "
                        f"and this run's weights are kept in {output / '.checkpoints'}: run the "
                        "same command with --overwrite to save them there instead")


# Disk a run needs, in multiples of the network's weights W. While it trains, the run's
# checkpoints: ``best`` (W) and ``last`` (the weights and the optimiser's two moments, 3W);
# ``last`` is replaced by writing the new one beside it before the rename, so at that moment
# 1W + 3W + 3W = 7W are on disk (QA measured that peak; at 6x a disk passed the check and
# then refused the checkpoints). The model saved at the end (W, with the checkpoints still
# there: 5W) fits in that. Plus SPACE_MARGIN for the config, card, file headers and the file
# system's blocks. A run whose checkpoints cannot be written goes on in memory; its model must
# still fit at the end.
SPACE_FACTOR = 7
SPACE_MARGIN = 2**20


def space_missing(output: Path, net, checkpoints: Path) -> tuple[int, int] | None:
    """(bytes needed, bytes free) in ``output`` for a run of ``net``, when the free space
    is short of the need, else None (also when the disk cannot say). The checkpoints of a
    run being resumed there count as room: they are replaced."""
    needed = SPACE_FACTOR * sum(t.numel() * t.element_size() for t in net.state_dict().values())
    needed += SPACE_MARGIN
    try:
        free = shutil.disk_usage(output).free
        free += sum(f.stat().st_size for f in checkpoints.glob("*") if f.is_file())
    except OSError:  # (no figure to go by: the save says what went wrong, as before)
        return None
    return (needed, free) if free < needed else None


def check_space(output: Path, net, checkpoints: Path) -> None:
    """Before training: UserError when ``output``'s disk cannot take the model and its
    checkpoints (the whole budget was trained, then the save failed on a full disk)."""
    from unet_studio.models.size_text import size_text

    missing = space_missing(output, net, checkpoints)
    if missing is not None:
        needed, free = missing
        raise UserError(f"not enough disk space in {output} for the model and its checkpoints "
                        f"({size_text(needed)} needed, {size_text(free)} free); free some space "
                        "or choose another -o folder")


@contextlib.contextmanager
def output_lock(output: Path):
    """Hold ``output`` (created if needed) for one run; UserError naming the folder and the
    process of a run that holds it. On the way out the lock goes, and so does the folder when
    this run created it and left nothing in it (a refused run leaves no trace)."""
    created = not output.exists()
    output.mkdir(parents=True, exist_ok=True)
    lock = output / LOCK_FILE
    try:
        _take(lock, output)
    except BaseException:
        _remove_if_empty(output, created)
        raise
    try:
        yield
    finally:
        _release(lock)
        _remove_if_empty(output, created)


def _take(lock: Path, output: Path) -> None:
    record = _own_record()
    for _ in range(2):  # (the second try after a stale lock was removed)
        try:
            descriptor = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            holder = _holder(lock)
            if holder is not None:
                raise UserError(f"{output}: another finetune ({holder}) is writing a model "
                                "there; wait for it to end or choose another -o folder (if "
                                f"nothing runs, delete {lock})") from None
            # Stale: its process is gone. (Two runs taking over one stale lock at the very
            # same moment could both remove it; the window is a few microseconds.)
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()
            continue
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(record, file)
        return
    raise UserError(f"{output}: cannot take {lock}: another run keeps taking it")


def _own_record() -> dict:
    from unet_studio.app.project_lock import process_started

    record = {"pid": os.getpid(), "host": socket.gethostname()}
    started = process_started(os.getpid())  # (a later process given the same id is not it)
    if started is not None:
        record["started"] = started
    return record


def _holder(lock: Path) -> str | None:
    """"process 123" (or "process 123 on host") of a run holding ``lock``; None when its
    process is gone, or the lock is damaged (a run killed while writing it)."""
    from unet_studio.app.processes import process_runs
    from unet_studio.app.project_lock import process_started

    try:
        record = json.loads(lock.read_text("utf-8"))
        pid, host = int(record["pid"]), str(record["host"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if host != socket.gethostname():
        return f"process {pid} on {host}"  # (whether it still runs cannot be told from here)
    started = record.get("started")
    now = process_started(pid) if isinstance(started, str) else None
    if now is not None:
        return f"process {pid}" if now == started else None
    return f"process {pid}" if process_runs(pid) else None


def _release(lock: Path) -> None:
    """Remove ``lock`` if it is still this process's (a stale-lock takeover by another run
    must not lose its lock to us)."""
    try:
        if int(json.loads(lock.read_text("utf-8"))["pid"]) == os.getpid():
            lock.unlink()
    except (OSError, ValueError, KeyError, TypeError):
        pass


def _remove_if_empty(output: Path, created: bool) -> None:
    if created:
        with contextlib.suppress(OSError):
            output.rmdir()  # (only while empty)
