"""How sure the model was of what it called objects: counted per pixel while tiles become
masks for instance labels, each pixel once, and reported on the "postprocess" steps."""

import numpy as np
import pytest
import torch

from unet_studio.models.object_confidence import UNSURE_PROBABILITY, ConfidenceTally
from unet_studio.models.pipeline import iter_predict_image
from unet_studio.models.registry import build_model
from unet_studio.models.task import TaskSpec


def constant_net(logits) -> torch.nn.Module:
    """A tiny U-Net whose output is ``logits`` (background, foreground, boundary) at every
    pixel: every weight zero but the head's bias (BatchNorm in eval mode passes zeros on)."""
    net = build_model("unet", spatial_dims=2, in_channels=1, out_channels=3, base_channels=4,
                      depth=2)
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.zero_()
        net.head.conv.bias.copy_(torch.tensor(logits, dtype=torch.float32))
    return net.eval()


def run_steps(net, image, axes, **options) -> list:
    steps = iter_predict_image(net, image, axes=axes, task=TaskSpec(), output_type="labels",
                               device="cpu", tile_shape=32, **options)
    return list(steps)


# softmax(0, 3, 0) = (0.04, 0.91, 0.04): objects, sure; softmax(0, 0.4, 0.4) = (0.25, 0.375,
# 0.375): objects (not background), no class above 0.6; softmax(3, 0, 0): background.
SURE, UNSURE, BACKGROUND = (0.0, 3.0, 0.0), (0.0, 0.4, 0.4), (3.0, 0.0, 0.0)


@pytest.mark.parametrize(("logits", "unsure"), [(SURE, False), (UNSURE, True)])
def test_every_pixel_of_a_tiled_time_series_is_counted_once(logits, unsure):
    image = np.random.default_rng(0).random((3, 96, 120)).astype(np.float32)  # (T, Y, X)
    steps = run_steps(constant_net(logits), image, "TYX", first={"T": slice(2, 3)})
    assert sum(s.stage == "predict" for s in steps) == 3 * 6  # (6 tiles a time point)
    finals = [s for s in steps if s.stage == "postprocess"]
    # (the time point on screen is labelled first, linked in its turn: four steps)
    assert len(finals) == 4 and all(s.confidence is not None for s in finals)
    confidence = finals[-1].confidence
    assert confidence.object_pixels == image.size  # (tile cores do not overlap)
    assert confidence.unsure_pixels == (image.size if unsure else 0)
    # (each step says the run so far: the totals grow by a time point's pixels)
    plane = 96 * 120
    assert [s.confidence.object_pixels for s in finals[:3]] == [plane, 2 * plane, image.size]


def test_background_counts_no_object_pixels():
    steps = run_steps(constant_net(BACKGROUND), np.random.default_rng(1).random((40, 52)), "YX")
    assert steps[-1].confidence.object_pixels == 0 and steps[-1].confidence.unsure_share == 0


def test_masks_and_probabilities_report_no_confidence():
    net, image = constant_net(UNSURE), np.random.default_rng(2).random((40, 52))
    for output_type in ("mask", "probabilities"):
        steps = iter_predict_image(net, image, axes="YX", task=TaskSpec(), device="cpu",
                                   output_type=output_type)
        assert all(s.confidence is None for s in steps)


def test_the_tally_counts_object_pixels_whose_top_class_is_under_the_bar():
    # (background, foreground, boundary) of five pixels
    probabilities = np.array([[0.9, 0.1, 0.2, 0.05, 0.45],
                              [0.05, 0.85, 0.45, 0.35, 0.3],
                              [0.05, 0.05, 0.35, 0.6, 0.25]], np.float32)
    objects = (1 - probabilities[0]) > 0.5  # the last four
    tally = ConfidenceTally()
    tally.count(probabilities, objects)
    tally.count(probabilities[:, :2], objects[:2])  # (another tile: adds up)
    top = probabilities.max(axis=0)
    assert UNSURE_PROBABILITY == 0.6 and list(top < 0.6) == [False, False, True, False, True]
    totals = tally.totals()
    assert (totals.object_pixels, totals.unsure_pixels) == (4 + 1, 2)
    assert totals.unsure_share == pytest.approx(2 / 5)
