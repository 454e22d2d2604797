"""What the Train panel runs (no widgets here): training data from the reviewed corrections,
the fine-tuning generator, saving each round with its lineage, and the accept rule.

Data comes from the reviewed regions of the current image and of the project's other images
(see ``app.training_data``); pixels the user changed are passed as ``changed`` (weighted up
by the loss). Examples of accepted earlier rounds are kept in the project's replay buffer so
that a new round does not forget images that left the project or lost their reviewed marks.
"""

from __future__ import annotations

import re
import shutil
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from unet_studio.app.errors import UserError
from unet_studio.app.project_images import safe_name
from unet_studio.app.qt.train_finish import finishing_early
from unet_studio.models.files import TEMP_PREFIX
from unet_studio.models.training.lineage import held_out_rows, metric_text

TRAINING_DIR = "training"  # inside the project: checkpoints of the running round, replay buffer


def metric_table(before: dict, after: dict) -> list[tuple[str, str, str, str]]:
    """Rows of the before/after table as (name, tooltip, before text, after text)."""
    return [(name, meaning, metric_text(old), metric_text(new))
            for name, meaning, old, new in held_out_rows(before, after)]


def parse_duration(text: str) -> float | None:
    """Seconds from "60 s", "90", "2 min", "1.5 h"; None for "" or "none" (no time limit)."""
    text = text.strip().lower()
    if text in ("", "none", "no limit"):
        return None
    match = re.fullmatch(r"(\d+(?:\.\d*)?)\s*(s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?)?", text)
    if match is None:
        raise UserError(f"time budget {text!r} is not a duration; write e.g. '60 s' or '2 min'")
    value = float(match.group(1))
    unit = (match.group(2) or "s")[0]
    seconds = value * {"s": 1, "m": 60, "h": 3600}[unit]
    if seconds <= 0:
        raise UserError("the time budget must be more than 0 seconds")
    return seconds


# What a round learns from (the Train panel's "Learn from" choice).
SCOPES = {"project": "reviewed data of every project image", "image": "this image only"}


def collect_examples(session, scope: str = "project") -> tuple[list, list[str]]:
    """The reviewed corrections to learn from as PendingExamples (the labels and masks of
    each reviewed box copied now, so the user can keep editing while training runs; the
    pixels are read in the worker), and one line per project image left out (and why).
    ``scope``: "project" (the current image and every other project image with reviewed
    regions) or "image" (the current image only). UserError when nothing is reviewed."""
    from unet_studio.app.training_data import (
        channel_to_learn,
        model_in_channels,
        model_percentiles,
        model_spatial_dims,
        pending_example,
        project_examples,
    )

    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {sorted(SCOPES)}, got {scope!r}")
    options = dict(percentiles=model_percentiles(session.model),
                   spatial_dims=model_spatial_dims(session.model))
    image, labels = session.host.current_image(), session.host.current_labels()
    regions = session.ensure_reviewed()
    examples, problems = [], []
    in_channels = model_in_channels(session.model)
    current_id = session.current_image_id()
    if image is not None and labels is not None and regions is not None and regions.any():
        channel = channel_to_learn(image.axes, image.shape, session.image_channel(current_id),
                                   in_channels)  # fmt: skip
        examples.append(pending_example(image.data, image.axes, labels, regions, name=image.name,
                                        channel=channel, **options))  # fmt: skip
    if scope == "project" and session.project is not None:
        open_image = getattr(session.host, "image_named", lambda name: None)
        others, problems = project_examples(session.project, skip={current_id},
                                            open_image=open_image, in_channels=in_channels,
                                            **options)  # fmt: skip
        examples += others
    if not examples:
        raise UserError("nothing reviewed yet: correct some objects and mark them reviewed "
                        "(Correct panel) before training")
    return examples, problems


def describe_examples(examples) -> str:
    """"nuclei" or "3 images (a, b, c)" for the status line."""
    names = [example.name or "unnamed" for example in examples]
    return names[0] if len(names) == 1 else f"{len(names)} images ({', '.join(names)})"


def fresh_replay(replay, examples) -> list:
    """The replay examples not superseded by this round's data (the same image's newer
    corrections are learnt from directly)."""
    names = {example.name for example in examples}
    return [example for example in replay if not example.name or example.name not in names]


@dataclass
class TrainRound:
    """One fine-tuning round as the panel tracks it."""

    parent: object  # ModelInfo of the starting model
    pending: list  # PendingExamples, read into ``examples`` when the round starts
    checkpoint_dir: Path | None
    examples: list = field(default_factory=list)  # TrainingExamples
    result: object = None  # FinetuneResult once finished
    saved: Path | None = None  # the new model folder
    history: list = field(default_factory=list)
    project: object = None  # the project open when the round started (its data's)
    number: int = 0  # the panel's count of rounds, for the user ("round 2")
    finish: threading.Event = field(default_factory=threading.Event)  # stop early, keep it

    def project_now(self, session):
        """The round's project while it is still the one open, else None: a round whose
        project was closed meanwhile goes to the user's models, never into another project
        (with another project's data in its lineage and replay)."""
        return self.project if self.project is not None and session.project is self.project else None

    def follow_rename(self, old, new) -> None:
        """A model of this round was renamed (ModelInfos before and after): the round starts
        from, or made, the model under its new name (its checkpoints were renamed along)."""
        if _same_path(self.parent.path, old.path):
            self.parent = new
            if self.checkpoint_dir is not None and self.project is not None:
                self.checkpoint_dir = checkpoint_dir_for(self.project, new)
        if self.saved is not None and _same_path(self.saved, old.path):
            self.saved = Path(new.path)


def ready_text(info, waiting: TrainRound | None) -> str:
    """The Train panel's status once another model (``info``, or None) became current while
    the round ``waiting`` awaited a verdict (None: no round waited)."""
    text = "No model to fine-tune." if info is None else f"Ready to fine-tune {info.name}."
    if waiting is None:
        return text
    parent = waiting.parent.name
    if waiting.saved is None:  # (its save failed: only the model's memory held it)
        return text + f" The model fine-tuned from {parent} could not be saved and is dropped."
    # (saved with its lineage: nothing of the round is lost)
    return text + (f" The model fine-tuned from {parent} stays saved as {waiting.saved.name}: "
                   "choose it in the Models panel to use it.")


def _same_path(path, other) -> bool:
    return Path(path).resolve() == Path(other).resolve()


def iter_train(round_: TrainRound, config, library, replay=()):
    """Load the starting model and fine-tune it; yields TrainProgress, returns the
    FinetuneResult. Runs in a worker thread (no widget, layer or session access)."""
    import time

    from unet_studio.models.training import iter_finetune

    started = time.monotonic()  # (the time budget is the round's, reading and loading too)
    # Reading pixels (a big stack's percentile sample, the reviewed boxes) happens here, in
    # the worker, not at the click.
    round_.examples = [pending.read() for pending in round_.pending]
    net = library.load(round_.parent.path, device="cpu")
    # A cancelled round resumes when its data are unchanged; after more corrections (other
    # data) its checkpoint is stale and a new round starts instead of refusing to train.
    inner = iter_finetune(
        net, round_.examples, config, task=getattr(net, "task", None),
        checkpoint_dir=round_.checkpoint_dir, replay=replay, stale_checkpoint="restart",
        started=started,
    )  # fmt: skip
    # (``round_.finish``: the window closes and the user chose to keep what it learnt)
    return (yield from finishing_early(inner, round_.finish, net, config, round_.checkpoint_dir))


def checkpoint_dir_for(project, parent) -> Path | None:
    """Where the round from ``parent`` checkpoints: stable, so a crashed run resumes."""
    if project is None:
        return None
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"from-{parent.source}-{parent.path.name}")
    return project.path / TRAINING_DIR / safe


def _scores_objects(metrics: dict) -> bool:
    """Does the held-out score measure objects? (An object F1 over crops without reference
    objects is only 1 or 0: nothing predicted there, or anything.)"""
    return "val_metric" in metrics and metrics.get("n_true", 1) > 0


def is_better(result) -> bool:
    """Did the round beat its starting model on the held-out reviewed data? By the held-out
    score where it measures objects and differs, else by the held-out loss."""
    before, after = result.metrics_before, result.metrics_after
    if _scores_objects(before) and "val_metric" in after and before["val_metric"] != after["val_metric"]:
        return after["val_metric"] > before["val_metric"]
    return bool(result.improved)


def held_out_caveat(result) -> str:
    """What the verdict rests on when the held-out data cannot tell much; "" otherwise."""
    before = result.metrics_before
    if "val_loss" not in before:
        return " No reviewed data was held out (too little reviewed): review more to measure."
    if "n_true" in before and not _scores_objects(before):
        return (" The held-out blocks hold no objects (they cluster elsewhere and stay in "
                "training), so the verdict rests on the held-out loss.")
    return ""


def parent_record(info) -> dict:
    """The lineage's ``parent`` for a ModelInfo: a ref the library resolves (a folder chosen
    by path is referred to by that path), its name and where it was."""
    ref = info.ref if info.source != "folder" else str(info.path)
    return {"ref": ref, "name": info.name, "path": str(info.path)}


def save_round(session, round_: TrainRound) -> Path:
    """Save the fine-tuned network as a standalone model folder with its lineage (config,
    parent, data summary, metrics, date, card): in the models of the round's project while
    that is still the one open (and logged in its history), else in the user's models. Clears the round's
    checkpoints (the model folder now holds the result)."""
    from unet_studio.models.training.lineage import lineage_metadata
    from unet_studio.models.weights import save_model

    result, parent = round_.result, round_.parent
    stamp = datetime.now(timezone.utc)
    # (capped: each round's name grows by its parent's, and a folder name has 255 bytes)
    name = safe_name(f"{parent.name}-ft-{stamp.strftime('%Y%m%d-%H%M%S')}")
    project = round_.project_now(session)
    if project is not None:
        folder = project.new_model_dir(name)
    else:
        folder = session.library.folders["user"] / name
    metadata = lineage_metadata(result, name=name, parent=parent_record(parent),
                                data_files=[e.name for e in round_.examples],
                                date=stamp.isoformat(timespec="seconds"))
    # Written under a hidden name, then renamed: a full disk or a kill mid-write never
    # leaves a half-written model listed among the models (the library skips "." names).
    partial = folder.with_name(f"{TEMP_PREFIX}{folder.name}")
    try:
        save_model(result.net, partial, task=getattr(result.net, "task", None), metadata=metadata)
        partial.rename(folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    saved = folder
    round_.saved = Path(saved)
    if round_.checkpoint_dir is not None:
        shutil.rmtree(round_.checkpoint_dir, ignore_errors=True)
    if project is not None:
        project.log("fine-tune", model=str(saved), parent=metadata["parent"]["ref"],
                            metrics=metadata["metrics"], steps=result.steps,
                            data=result.data_summary)  # fmt: skip
    return round_.saved


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
    buffer = load_replay(project)
    if buffer.rename(old, new):
        buffer.save(project.path / TRAINING_DIR)


def remember_examples(project, examples) -> Path | None:
    """Add an accepted round's examples to the project's replay buffer. An unreadable buffer
    is renamed aside (returned) and a new one started: kept in place it would refuse every
    later round and every accept, and its examples cannot be had back anyway."""
    if project is None:
        return None
    folder = project.path / TRAINING_DIR
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
    folder.mkdir(parents=True, exist_ok=True)
    buffer.save(folder)
    return aside


def replay_for_round(project, notify) -> list:
    """The replay examples a new round revisits; an unreadable buffer is told as a warning
    and the round learns without it (one bad file must not stop every round)."""
    try:
        return load_replay(project).examples
    except UserError as error:
        notify(f"{error}; this round learns without the examples of earlier rounds", "warning")
        return []
