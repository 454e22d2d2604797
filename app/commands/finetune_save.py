"""The last step of ``unet-studio finetune``: saving the model on a disk that filled during
the run (after ``check_space``: another program wrote there meanwhile).

The save wrote the model under a hidden temporary name, so a full disk was reported as
``OUT/.tmp-XXXX.safetensors: the disk is full``, not saying whether the run was lost. Here a
full disk is tried once more after setting aside the run's ``best`` checkpoint: the model
being saved holds the same (or later) weights, so the space it held is the model's. Its bytes
stay in memory and are put back when the save fails again, and ``last`` (what a rerun
resumes from) is never touched: it goes only once the model is written. A save that still
fails says which folder, how much to free there, and where the same command resumes.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Callable
from pathlib import Path

from unet_studio.app.errors import UserError

FULL = (errno.ENOSPC, errno.EDQUOT)
BEST = "best.safetensors"  # (the engine's ``checkpoint.BEST``)


def save_on_full_disk(save: Callable[[], None], output: Path, checkpoints: Path, net, *,
                      keep_checkpoints: Callable[[], bool]) -> bool:
    """``save()``, retried once on a full disk with the ``best`` checkpoint set aside;
    UserError (naming ``output``) when it still fails. ``keep_checkpoints()``: whether the
    run's checkpoints are to be kept after the save (a run to go on from): then ``best`` is
    put back, and False is returned when it could not be (nor should the run be kept).
    True otherwise."""
    try:
        save()
        return True
    except OSError as error:
        if error.errno not in FULL:
            raise
    held = _set_aside(checkpoints / BEST)
    if held is None:  # (nothing freed: the same save would fail the same way)
        raise UserError(full_disk_text(output, checkpoints, net)) from None
    try:
        save()
    except OSError as error:
        if error.errno not in FULL:
            _put_back(checkpoints / BEST, held)
            raise
        restored = _put_back(checkpoints / BEST, held)
        raise UserError(full_disk_text(output, checkpoints, net, restored)) from None
    if keep_checkpoints():
        return _put_back(checkpoints / BEST, held)
    return True


def _set_aside(path: Path) -> bytes | None:
    """The bytes of ``path``, which is removed; None when there is none (or it cannot be
    read: then it stays). In memory, not renamed elsewhere: a rename frees no space."""
    try:
        data = path.read_bytes()
        path.unlink()
    except OSError:
        return None
    return data


def _put_back(path: Path, data: bytes | None) -> bool:
    """Write ``data`` (set aside) back to ``path`` atomically; whether it is there."""
    from unet_studio.models.files import atomic_write_bytes

    if data is None:
        return True
    with contextlib.suppress(OSError):
        atomic_write_bytes(path, data)
        return True
    return False


def full_disk_text(output: Path, checkpoints: Path, net, best_kept: bool = True) -> str:
    """What to do after the model could not be saved on a full disk: how much to free (what
    the same command checks before it trains), and from which step it resumes, or that the
    run's weights are lost when it wrote no checkpoint."""
    from unet_studio.app.commands.finetune_output import space_missing
    from unet_studio.app.commands.finetune_report import checkpoint_step
    from unet_studio.models.size_text import size_text

    missing = space_missing(output, net, checkpoints)
    free = "free some space" if missing is None else \
        f"free {size_text(missing[0] - missing[1])} in {output}"
    head = f"{output}: the disk is full: the fine-tuned model could not be saved"
    saved = checkpoint_step(checkpoints)
    if saved is None:
        return (f"{head}, and no checkpoint of this run could be written: its trained weights "
                f"could not be kept; {free} and run the command again (it starts afresh)")
    lost = "" if best_kept else f" (its {BEST} could not be put back: the model it saves " \
        "then holds the weights of its last step)"
    return (f"{head}; its checkpoint is kept in {checkpoints}: {free} and run the same command "
            f"again: it resumes from step {saved['step']}{lost}")
