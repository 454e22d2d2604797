"""Which way round a fine-tuned model sees intensities, decided from the round's own data.

A model of fluorescent nuclei learnt "bright = object". Phase-contrast bacteria are dark
rods on a bright halo: fine-tuning the bundled default on them spent its first ~100 steps
unlearning that (held-out F1 0.00 after 50 steps, 0.69 after 150), longer than a GUI round
on a CPU lasts; given the inverted image the untrained default already scored F1 0.53, and
0.72 after 50 steps. So when the reviewed labels say clearly that the objects are darker
than their background and the starting model expects bright objects (or the other way
round), the round flips ``TaskSpec.invert_intensity``: the network then sees ``1 - x``, in
training and in every later prediction (the flag is saved with the model).

Only a model that records what it expects is flipped: ``task.extra["objects"] == "bright"``
(objects brighter than their background, as the network sees them), which the bundled
default's config says and every model fine-tuned from it inherits with its task. A model
without that record (trained from scratch, imported, or fine-tuned before this existed)
may have learnt dark objects on the image as it is: flipping it would make it unlearn
them, so it is left alone. Multi-channel models are left alone too: one channel's polarity
says nothing of the others', and inverting one channel of several is not what the flag
means.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from unet_studio.models.training.examples import example_range

# How far apart (in the normalised range: the 1st to 99.8th percentile span is 0 to 1) the
# median object and background intensities must be to call the polarity clear. Measured
# (objects minus background, /work/shared/data, the frames normalised one by one):
# phase-contrast E. coli -0.36 (the study crop) and -0.38 (whole frames); fluorescent nuclei
# +0.46 (Hoechst), +0.37 (HeLa), +0.31 (synthetic 3D), but only +0.05 on cells3d, whose
# nuclei lie in a bright, textured tissue. A round flips only where the data disagree with
# the model by more than this: nuclei as dim as cells3d's never flip a model either way.
POLARITY_MARGIN = 0.1
# What a model's task records of its objects' polarity, as its network sees them (after the
# flag): only a model recording "bright" is ever flipped (see the module's docstring).
EXPECTS_KEY, BRIGHT = "objects", "bright"
# Fewer reviewed object (or background) pixels than this decide nothing.
MIN_PIXELS = 64


def measure_polarity(examples, lower: float, upper: float) -> tuple[float, float] | None:
    """Median normalised intensity of the reviewed object pixels (labels > 0) and of the
    reviewed background pixels of single-channel ``examples``, each normalised as training
    normalises it (not inverted); None for multi-channel examples or too few pixels."""
    objects, background = [], []
    for example in examples:
        if example.in_channels != 1:
            return None
        image = example.image[0] if example.has_channel_axis else example.image
        low, high = example_range(image[None], lower, upper, example.intensity)
        reviewed, labels = example.reviewed_mask, example.labels
        objects.append(_normalised(image[reviewed & (labels > 0)], low[0], high[0]))
        background.append(_normalised(image[reviewed & (labels == 0)], low[0], high[0]))
    objects, background = np.concatenate(objects), np.concatenate(background)
    if min(objects.size, background.size) < MIN_PIXELS:
        return None
    return float(np.median(objects)), float(np.median(background))


def _normalised(values: np.ndarray, low: float, high: float) -> np.ndarray:
    from unet_studio.models.normalize import normalize_intensity

    return normalize_intensity(values, low, high)


def decide_polarity(examples, task, in_channels: int):
    """``(task, note)``: the task the round trains with, its ``invert_intensity`` flipped
    when the data's polarity clearly disagrees with what the starting model expects, and
    what was measured then (``{"objects", "background", "invert_intensity"}``, else None)."""
    if in_channels != 1 or task.extra.get(EXPECTS_KEY) != BRIGHT:
        return task, None
    medians = measure_polarity(examples, task.lower_percentile, task.upper_percentile)
    if medians is None or abs(medians[0] - medians[1]) < POLARITY_MARGIN:
        return task, None
    dark_objects = medians[0] < medians[1]
    if dark_objects == task.invert_intensity:  # (the model expects them so already)
        return task, None
    note = {"objects": round(medians[0], 4), "background": round(medians[1], 4),
            "invert_intensity": dark_objects}
    return replace(task, invert_intensity=dark_objects), note


def polarity_text(extra: dict | None) -> str:
    """One phrase for a round whose polarity was flipped (``extra["intensity_polarity"]``
    of its result), "" otherwise."""
    note = (extra or {}).get("intensity_polarity")
    if not note:
        return ""
    if note.get("invert_intensity"):
        return ("objects darker than background: the image is inverted for this model (its "
                "starting model was trained on bright objects)")
    return "objects brighter than background: the image is no longer inverted for this model"


INHERITED_KEY = "input_inverted"  # (a round's ``extra``: the inversion kept from its parent)


def input_polarity_text(extra: dict | None) -> str:
    """The model card's phrase on the model's input: the round's flip (``polarity_text``),
    or the inversion it kept from the model it was fine-tuned from (``extra[INHERITED_KEY]``:
    a second round on phase contrast said nothing of it, and a model shared on never told
    that it inverts its input); "" for a model that takes the image as it is."""
    if (extra or {}).get(INHERITED_KEY):
        return ("objects darker than background: the image is inverted for this model, as for "
                "the model it was fine-tuned from")
    return polarity_text(extra)
