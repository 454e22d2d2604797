"""What the Train panel says of a round whose checkpoints the disk refused (a full disk, a
read-only project): no widgets here.

The engine goes on in memory then and says so once (``TrainProgress.notice`` while the
round runs, ``FinetuneResult.extra["checkpoint_problem"]`` at its end). The panel must say
it too, in its own terms: what is kept (the network, in memory only), what is not (a
cancelled round cannot resume from there; a round from an untrained network cannot keep
its steps for the next one), and that the model is saved once there is room.
"""

from __future__ import annotations

from unet_studio.app.qt.train_round import steps_in_checkpoint

# Where the engine's text (``session_checkpoints.unwritable_text``) stops naming the folder
# and the reason and starts saying what follows for the run (said here in the panel's words).
_ENGINE_CONSEQUENCE = "; training goes on in memory"


def checkpoint_cause(problem: str) -> str:
    """"could not write a checkpoint in FOLDER (no space left on device)": the engine's
    ``checkpoint_problem`` without what it says follows."""
    return problem.partition(_ENGINE_CONSEQUENCE)[0]


def running_notice_text(problem: str) -> str:
    """The status (and the notification) while a round runs on without its checkpoints."""
    cause = checkpoint_cause(problem)
    return (f"{cause[:1].upper()}{cause[1:]}: the training is kept in memory (a cancelled "
            "round cannot resume from here), and its model is saved at the end when there is "
            "room; if there is none then, Accept tries the save again.")


def unsaved_note(result) -> str:
    """What the "could not be saved" status adds when the round's checkpoints could not be
    written either ("" when they were): only the memory holds the training."""
    problem = result.extra.get("checkpoint_problem")
    if not problem:
        return ""
    return (f" Its checkpoints could not be written either ({checkpoint_cause(problem)}): "
            "the training is kept in memory only.")


def cancelled_text(problem: str | None) -> str:
    """The status after Cancel: training again resumes from the round's checkpoint, unless
    the disk refused some (then from the last one written, if any)."""
    if not problem:
        return "Cancelled; the best checkpoint was kept, training again resumes it."
    return (f"Cancelled; {checkpoint_cause(problem)}, so training again resumes from the last "
            "checkpoint written, or starts afresh if there is none.")


def scratch_steps_lost(round_, result) -> bool:
    """Did a round from an untrained network fail to keep its steps for the next one? Its
    checkpoint holds them only if the disk took its last save (``checkpoint_problem`` says
    one save was refused, maybe an earlier one)."""
    if not result.extra.get("checkpoint_problem"):
        return False
    reached = result.steps + result.extra.get("carried_steps", 0)
    return steps_in_checkpoint(round_.checkpoint_dir) != reached


def scratch_lost_text(result, parent_name: str, kept_steps: int) -> str:
    """The verdict of a round from the untrained ``parent_name`` that beat nothing yet and
    whose steps could not be kept (its checkpoint was not written): never that they were,
    and what the next round starts from (``kept_steps``: those of the checkpoint on disk)."""
    from unet_studio.models.training.progress import stop_text

    cause = checkpoint_cause(result.extra["checkpoint_problem"])
    steps = f"{result.steps} step" + ("" if result.steps == 1 else "s")
    plural = "" if kept_steps == 1 else "s"
    start = (f"goes on from the {kept_steps} step{plural} of the last checkpoint written"
             if kept_steps else "starts from random weights again")
    return (f"Finished after {steps} ({stop_text(result.stopped)}); no step beat the random "
            f"starting weights of {parent_name} on held-out data yet, so no model was made, "
            f"and its steps could not be kept: {cause}. Free some space: the next round "
            f"{start}.")
