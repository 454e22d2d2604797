"""What a model must be to segment images, and whether it has learnt anything yet (no torch,
no widgets): one test each, shared by the Models panel, the Segment panel, the library's
loading and the command line, so that they never disagree.

* The app segments 2D and 3D images only. The model family also builds 1D networks (for
  library use), but a 1D model run on a stack treats every row as a signal: a wrong shape
  error in the GUI, hours of meaningless work on the command line.
* A network built in the Models panel has random weights until the Train panel trains it;
  its labels are noise (often the whole stack as one object). Its metadata says so, and
  once trained for a round, how few steps it has had since (``steps_from_scratch``).
"""

from __future__ import annotations

from unet_studio.app.errors import UserError

SEGMENTED_DIMS = (2, 3)  # the spatial dimensions the app's images, tiles and labels have
UNTRAINED_KEY = "untrained"  # metadata flag written when a network is built untrained
UNTRAINED_DATA = "none yet (untrained)"  # its training data (also the mark of older folders)
UNTRAINED_ADVICE = "it is untrained (random weights): train it first in the Train panel"
# Steps a network trained from scratch needs at the least ("hundreds to thousands"): fewer
# since its random weights, and it is called still essentially untrained.
SCRATCH_STEPS = 500
# Model metadata: training steps taken since random weights, kept while below SCRATCH_STEPS
# (a round from an untrained network is no longer marked untrained, yet hardly trained).
SCRATCH_KEY = "steps_from_scratch"


def model_spatial_dims(info) -> int:
    """The spatial dimensions of a model (a ModelInfo): its architecture's, else its
    task's spatial axes ("YX": 2), else 2 (the architecture's default)."""
    dims = info.architecture_config.get("spatial_dims")
    if isinstance(dims, int) and not isinstance(dims, bool):
        return dims
    axes = info.task.get("spatial_axes") if isinstance(info.task, dict) else None
    return len(axes) if isinstance(axes, str) and axes else 2


def segment_refusal(info) -> str | None:
    """Why ``info`` (a ModelInfo) cannot segment images, naming it; None when it can."""
    dims = model_spatial_dims(info)
    if dims in SEGMENTED_DIMS:
        return None
    where = info.path if info.source == "folder" else info.ref
    return (f"the model {info.name} ({where}) is a {dims}D model: unet-studio segments 2D "
            "and 3D images only; use a 2D or 3D model")


def check_segments_images(info) -> None:
    """UserError (see :func:`segment_refusal`) for a model that cannot segment images."""
    refusal = segment_refusal(info)
    if refusal is not None:
        raise UserError(refusal)


def is_untrained(metadata: dict | None) -> bool:
    """Whether a model's metadata (``config.json``'s ``metadata``) marks it untrained: the
    flag the Models panel's builder writes, or the training data it wrote before the flag.
    A fine-tuned model's metadata is written afresh (its own training data): never marked."""
    metadata = metadata or {}
    return metadata.get(UNTRAINED_KEY) is True or metadata.get("training_data") == UNTRAINED_DATA


def steps_from_scratch(metadata: dict | None) -> int | None:
    """Training steps a model has had since random weights: 0 for a network built untrained,
    the count its rounds recorded, None for a trained model (or one past SCRATCH_STEPS)."""
    if is_untrained(metadata):
        return 0
    steps = (metadata or {}).get(SCRATCH_KEY)
    return steps if isinstance(steps, int) and not isinstance(steps, bool) else None


def scratch_metadata(parent_metadata: dict | None, steps: int) -> dict:
    """What a round's model records of its steps since random weights ({} once trained)."""
    before = steps_from_scratch(parent_metadata)
    if before is None or before + steps >= SCRATCH_STEPS:
        return {}
    return {SCRATCH_KEY: before + steps}


def scratch_warning(name: str, metadata: dict | None) -> str:
    """What to say of model ``name`` trained from random weights for fewer than
    SCRATCH_STEPS steps ("" for any other): a round's Accept takes away its untrained mark,
    and it was then used without a word, though after 140 CPU steps it still found nothing."""
    steps = steps_from_scratch(metadata)
    if not steps:  # (None: trained; 0: untrained, said as such)
        return ""
    return (f"{name} has had only {steps} training step{'s' if steps != 1 else ''} since random "
            "weights (a network from scratch needs hundreds to thousands): its labels may be "
            "poor; train it longer in the Train panel")
