"""What the Train panel runs (no widgets here): training data from the reviewed corrections,
the fine-tuning generator, saving each round with its lineage, and the accept rule.

Data comes from the reviewed regions of the current image and of the project's other images
(see ``app.training_data``); pixels the user changed are passed as ``changed`` (weighted up
by the loss). Examples of accepted earlier rounds are kept in the project's replay buffer so
that a new round does not forget images that left the project or lost their reviewed marks.

Here: the data a round learns from, and the verdict on it. The round itself (training,
checkpoints, saving) lives in ``train_round`` and the replay buffer in ``train_replay``;
the panel reaches all of it through this module, where their names stay importable.
"""

from __future__ import annotations

import re

from unet_studio.app.errors import UserError
from unet_studio.app.host import labels_layer_name
from unet_studio.app.qt.plane_word import SLICE, TIME_POINT
from unet_studio.app.qt.train_replay import (
    TRAINING_DIR,
    fresh_replay,
    load_replay,
    remember_examples,
    rename_in_replay,
    replay_for_round,
)
from unet_studio.app.qt.train_round import (
    TrainRound,
    checkpoint_dir_for,
    clear_checkpoints,
    iter_train,
    parent_record,
    ready_text,
    save_round,
    set_aside_text,
    training_verb,
)
from unet_studio.models.training.lineage import metric_text, readable_held_out_rows
from unet_studio.models.training.ranking import compare

__all__ = [
    "SCOPES", "TRAINING_DIR", "TrainRound", "change_texts", "checkpoint_dir_for",
    "clear_checkpoints", "collect_examples",
    "describe_examples", "fresh_replay", "held_out_caveat", "is_better", "iter_train",
    "keeps_scratch_progress", "kept_starting_weights", "nothing_learnt_text",
    "scratch_kept_text",
    "load_replay", "metric_table", "parent_record", "parse_duration", "ready_text",
    "remember_examples", "rename_in_replay", "replay_for_round", "save_round",
    "set_aside_text", "training_verb", "verdict_comparison",
]  # fmt: skip


def metric_table(before: dict, after: dict) -> list[tuple[str, str, str, str]]:
    """Rows of the before/after table as (name, tooltip, before text, after text); two
    different scores never read the same (see ``change_texts``). Held-out blocks without a
    reviewed object get one row that says so instead of their object counts."""
    rows = []
    for name, meaning, old, new in readable_held_out_rows(before, after):
        if isinstance(old, float) and isinstance(new, float):
            texts = change_texts(old, new)[:2]
        else:
            texts = metric_text(old), metric_text(new)
        rows.append((name, meaning, *texts))
    return rows


# Decimals a metric is shown with, and the most a change may add so that it shows: a round
# of a few steps moves the held-out loss in its 4th or 5th decimal, and "0.243 -> 0.243"
# under a verdict that rests on it read as a contradiction.
DECIMALS, MOST_DECIMALS = 3, 6


def change_texts(before: float, after: float) -> tuple[str, str, str]:
    """(before, after, note): the two values with the fewest decimals (3 at least) that tell
    them apart; when even ``MOST_DECIMALS`` cannot, the note says how small the difference
    is (", higher by less than 0.000001"), else it is ""."""
    for decimals in range(DECIMALS, MOST_DECIMALS + 1):
        texts = f"{before:.{decimals}f}", f"{after:.{decimals}f}"
        if texts[0] != texts[1] or before == after:
            return (*texts, "")
    direction = "higher" if after > before else "lower"
    return (*texts, f", {direction} by less than {10.0 ** -MOST_DECIMALS:.{MOST_DECIMALS}f}")


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
    """The reviewed corrections to learn from as PendingExamples (checked now; the reviewed
    boxes are found, their labels and masks copied and their pixels read in the round's
    worker: reading a big stack's whole mask here froze the window for seconds), and one
    line per project image left out (and why).
    ``scope``: "project" (the current image and every other project image with reviewed
    regions) or "image" (the current image only). UserError when nothing is reviewed.
    A current image the user took out of the project is never learnt from (its marks on
    screen, made since, are in memory only): said as one of the images left out."""
    from unet_studio.app.qt.session_project_images import removed_text
    from unet_studio.app.qt.train_kind import other_kind_images, refuse_other_kind
    from unet_studio.app.training_data import (
        model_in_channels,
        model_percentiles,
        model_spatial_dims,
        project_examples,
    )

    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {sorted(SCOPES)}, got {scope!r}")
    removed = session.current_left_out()
    if removed is not None and scope == "image":
        raise UserError(f"nothing to learn from: {removed_text(removed)}")
    if removed is None:  # (its labels are refused for their kind only when learnt from)
        refuse_other_kind(session)  # (a class map learnt by an objects model, or the reverse)
    options = dict(percentiles=model_percentiles(session.model),
                   spatial_dims=model_spatial_dims(session.model))
    in_channels, model_name = model_in_channels(session.model), session.model.name
    current_id = session.current_image_id()
    examples = [] if removed is not None else _current_examples(session, current_id, options)
    problems, kind_problems = [], []
    if scope == "project" and session.project is not None:
        open_image = getattr(session.host, "image_named", lambda name: None)
        # (the current image is learnt from its labels on screen; with its labels layer
        # closed, from those its project saved: nothing was learnt, "nothing reviewed yet"
        # while the Correct panel said 20 % reviewed)
        on_screen = {current_id} if session.host.current_labels() is not None else set()
        other_kind, kind_problems = other_kind_images(session, skip=on_screen)
        others, problems = project_examples(session.project, skip={*on_screen, *other_kind},
                                            open_image=open_image, in_channels=in_channels,
                                            host=session.host, model_name=model_name,
                                            **options)  # fmt: skip
        examples += others
        problems = kind_problems + problems
    # (the image on screen, not learnt from, is said first)
    removed_line = [] if removed is None else [removed_text(removed)]
    problems = removed_line + problems
    if not examples and (removed_line or kind_problems):
        raise UserError(f"nothing to learn from: {(removed_line + kind_problems)[0]}")
    if not examples:
        raise UserError("nothing reviewed yet: correct some objects and mark them reviewed "
                        "(Correct panel) before training")
    return examples, problems


def _current_examples(session, current_id: str | None, options: dict) -> list:
    """The current image's reviewed corrections as one PendingExample (none without
    reviewed marks). A model taking several channels learns from the file's channel layers
    stacked, as the Segment panel fed it (``model_channels``)."""
    from unet_studio.app.layer_channel import note_file_channel
    from unet_studio.app.qt.train_intensity import use_known_intensity, whole_image_key
    from unet_studio.app.training_data import (
        channel_to_learn,
        model_in_channels,
        pending_example,
        training_image,
    )

    in_channels, model_name = model_in_channels(session.model), session.model.name
    layer = session.host.current_image()
    image = training_image(session.host, layer, in_channels, model_name)
    labels = session.host.current_labels()
    regions = session.ensure_reviewed()
    if layer is not None and current_id is not None:
        # (a channel layer of a file: which channel, for rounds that read it from the file)
        note_file_channel(session.project, current_id, layer)
    if image is None or labels is None or regions is None or not regions.any():
        return []
    channel = channel_to_learn(image.axes, image.shape, session.image_channel(current_id),
                               in_channels, name=image.name, model_name=model_name)
    example = pending_example(image.data, image.axes, labels, regions, name=image.name,
                              channel=channel, labels_name=labels_layer_name(session.host),
                              **options)  # fmt: skip
    use_known_intensity(example, session.intensities, whole_image_key(image, channel))
    return [example]


def describe_examples(examples) -> str:
    """"nuclei" or "3 images (a, b, c)" for the status line."""
    names = [example.name or "unnamed" for example in examples]
    return names[0] if len(names) == 1 else f"{len(names)} images ({', '.join(names)})"


def _scores_objects(metrics: dict) -> bool:
    """Does the held-out score measure objects? (An object F1 over crops without reference
    objects is only 1 or 0: nothing predicted there, or anything.)"""
    return "val_metric" in metrics and metrics.get("n_true", 1) > 0


def verdict_comparison(result):
    """``ranking.Comparison`` of the round's weights with its starting ones on the held-out
    reviewed data, as its best step was picked: by the held-out score where it measures
    objects (then F1 at IoU 0.75, the mean IoU of matched objects, the loss), else by the
    held-out loss; each only beyond its margin. None when nothing was held out."""
    before, after = result.metrics_before, result.metrics_after
    by = "val_metric" if _scores_objects(before) and "val_metric" in after else "val_loss"
    return compare(after, before, by)


def is_better(result) -> bool:
    """Did the round beat its starting model on the held-out reviewed data beyond the
    margins (``ranking``)? A tie is not better: auto-accept leaves it alone."""
    comparison = verdict_comparison(result)
    return comparison is not None and comparison.outcome > 0


# Below this many reference objects in the held-out blocks, one object found or missed
# moves their F1 by 0.1 or more: a round's verdict on them is a coin toss.
FEW_OBJECTS = 10


def held_out_caveat(result) -> str:
    """What the verdict rests on when the held-out data cannot tell much, and whether the
    round inverted the model's input (its objects darker than background); "" otherwise."""
    return _caveat(result) + _polarity_note(result)


def _polarity_note(result) -> str:
    from unet_studio.models.training.polarity import polarity_text

    text = polarity_text(getattr(result, "extra", None))
    return f" {text[0].upper()}{text[1:]}." if text else ""


def _caveat(result) -> str:
    before = result.metrics_before
    if "val_loss" not in before:
        return " No reviewed data was held out (too little reviewed): review more to measure."
    if "n_true" in before and not _scores_objects(before):
        return (" The held-out blocks hold no objects (they cluster elsewhere and stay in "
                "training), so the verdict rests on the held-out loss.")
    objects = int(before.get("n_true", FEW_OBJECTS))
    if objects >= FEW_OBJECTS:
        return ""
    plane = _one_plane_reviewed(result)
    where = f", all in the one {plane} reviewed" if plane else ""
    advice = (f"review another {plane} too: the held-out score comes from the same {plane} "
              "the round learnt from" if plane else "review more objects to measure it better")
    return (f" The held-out blocks hold only {objects} object{'s' if objects != 1 else ''}"
            f"{where}: one object more or less found moves the score a lot, so the verdict "
            f"is uncertain; {advice}.")


# What a plane of a stack is called by the letter of its axis (a 2D network's slabs), as
# the Correct panel calls it (``plane_word``: its "Mark this time point" on a time-lapse).
PLANE_WORDS = {"T": TIME_POINT, "Z": SLICE}


def _one_plane_reviewed(result) -> str | None:
    """"time point" (or "slice") when the round learnt from one plane of a stack only and its
    held-out objects lie in it (a few objects of a single reviewed frame: the held-out
    score measures that frame again, not the others); None otherwise or when not known
    (a result read back from the history)."""
    extra = getattr(result, "extra", None) or {}
    summary = getattr(result, "data_summary", None) or {}
    axes = extra.get("val_plane_axes")
    if extra.get("val_object_slabs") != 1 or summary.get("slabs") != 1 or axes is None:
        return None
    return PLANE_WORDS.get(axes[-1:], f"{SLICE} (or {TIME_POINT})")


# Steps a round on images new to a model is advised to take: fewer rarely move its weights
# far enough to beat them on held-out data (a phase-contrast set new to the nuclei model:
# no gain after 7-11 steps, F1 0 -> 0.76 after 159).
ADVISED_STEPS = 100


def kept_starting_weights(result) -> bool:
    """Did the round end with its starting weights as the best ones (no validation beat
    them)? Then its model would be a copy of the one it started from."""
    return bool(result.steps) and result.best_step == 0 and "val_loss" in result.metrics_before


def nothing_learnt_text(result, parent_name: str) -> str:
    """The verdict of a round that kept its starting weights: no model was made, and what
    to do instead (a longer round: its pace gives how long ``ADVISED_STEPS`` take)."""
    from unet_studio.models.training.progress import stop_text

    steps = _steps(result.steps)
    text = (f"Finished after {steps} ({stop_text(result.stopped)}); no step beat the "
            f"starting weights of {parent_name} on held-out data, so no new model was made.")
    if result.steps < ADVISED_STEPS:
        # (not "images new to the model": they may be the very ones it was trained on)
        few = f" {steps} {'is' if result.steps == 1 else 'are'} too few to beat the starting weights"
        advised = _advised_time(result, ADVISED_STEPS)
        if advised is None:  # (too few steps to time one: the round was mostly its scoring)
            text += f"{few}: give the next round a few minutes."
        else:
            text += (f"{few}: give the next round about {advised} (some {ADVISED_STEPS} "
                     "steps at this pace).")
    return text


def keeps_scratch_progress(round_) -> bool:
    """Does the finished ``round_`` (no step beat its starting weights) keep its checkpoint
    for the next round to go on from? When it started from an untrained network: beating
    random weights on held-out data takes many steps, which a CPU's short rounds reach only
    together (three 60 s rounds of 5, 3 and 10 steps each started from random weights
    again, and never made a model). A trained parent's round starts afresh instead."""
    from unet_studio.app.model_checks import is_untrained

    return round_.checkpoint_dir is not None and is_untrained(getattr(round_.parent, "metadata", None))


def scratch_kept_text(result, parent_name: str, resumed_at: int = 0) -> str:
    """The verdict of a round from the untrained ``parent_name`` that beat nothing yet: no
    model was made (it would be the random weights), its steps are kept, and how long to go
    on (its pace gives how long ``ADVISED_STEPS`` more take, past those it has had)."""
    from unet_studio.models.training.progress import stop_text

    steps = _steps(result.steps)
    resumed = f", resumed at step {resumed_at}" if resumed_at else ""
    carried = result.extra.get("carried_steps", 0)
    # (not "on other data": a round goes on from the weights whenever its data, settings
    # or the labels around the reviewed pixels differ from the run checkpointed)
    since = f", from the weights earlier rounds reached in {_steps(carried)}" if carried else ""
    so_far = _steps(result.steps + carried)
    text = (f"Finished after {steps}{resumed}{since} ({stop_text(result.stopped)}); no step "
            f"beat the random starting weights of {parent_name} on held-out data yet, so no "
            f"model was made, but the training is kept: {so_far} so far. Train again to go on "
            "from there (after new corrections, a new round starts from the weights it reached)")
    done = result.steps + carried
    more = ADVISED_STEPS - done if done < ADVISED_STEPS else ADVISED_STEPS
    advised = _advised_time(result, more)
    if advised is None:
        return text + " with a time budget of a few minutes."
    return text + f", about {advised} more (some {more} steps at this pace)."


def _advised_time(result, steps: int) -> str | None:
    """How long a round of ``steps`` steps takes at ``result``'s pace, loading and scoring
    counted once ("about" left to the caller); None when the round timed no step."""
    from unet_studio.app.time_left import duration_text

    pace = step_seconds(result.history)
    if pace is None:
        return None
    from unet_studio.app.qt.train_pace import round_seconds, round_steps

    # (what does not grow with steps: this round's loading and scoring; a resumed round's
    # elapsed and steps count the earlier part of its run too, its loading twice)
    fixed = max(0.0, round_seconds(result) - round_steps(result) * pace)
    return duration_text(fixed + steps * pace)


def _steps(count: int) -> str:
    return f"{count} step" + ("" if count == 1 else "s")


def step_seconds(history: list[dict]) -> float | None:
    """Seconds per training step of a round (its ``history`` of TrainProgress dicts), from
    its first step to its last (validations between included); None with fewer than two."""
    first_seen: dict[int, float] = {}
    for entry in history:
        step, elapsed = entry.get("step", 0), entry.get("elapsed")
        if step >= 1 and elapsed is not None and step not in first_seen:
            first_seen[step] = float(elapsed)  # (a step's scoring after it comes later)
    if len(first_seen) < 2:
        return None
    first, last = min(first_seen), max(first_seen)
    return (first_seen[last] - first_seen[first]) / (last - first)
