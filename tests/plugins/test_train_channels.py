"""The Train panel's data for a model taking several channels, from files opened in a real
viewer: the channels prediction feeds the model (the channel layers of a hyperstack
stacked, the RGB of an RGBA layer), and a few steps of fine-tuning on them change it."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet_studio.app.reviewed import ReviewedRegions
from unet_studio.app.training_data import channel_to_learn, pending_example, training_image

pytestmark = pytest.mark.qt


def _net(in_channels: int):
    import torch

    from unet_studio.models.registry import build_model

    torch.manual_seed(in_channels)
    return build_model("unet", spatial_dims=2, in_channels=in_channels, base_channels=4, depth=2)


def _example(host, labels, in_channels: int, recorded=None):
    """What a round reads for the current image (as ``train_logic.collect_examples`` asks)."""
    image = training_image(host, host.current_image(), in_channels)
    regions = ReviewedRegions(labels.shape)
    regions.mark_region(tuple(slice(0, n) for n in labels.shape))
    channel = channel_to_learn(image.axes, image.shape, recorded, in_channels)
    pending = pending_example(image.data, image.axes, labels, regions, name=image.name,
                              percentiles=(1.0, 99.8), channel=channel)
    return image, channel, pending.read()


def _tunes(net, example) -> bool:
    """Whether a few fine-tuning steps on ``example`` change ``net``'s weights."""
    import torch

    from unet_studio.models.training import FinetuneConfig, finetune

    before = {k: v.clone() for k, v in net.state_dict().items()}
    # (nothing held out: the last weights are kept, whatever a held-out verdict would say)
    config = FinetuneConfig(max_steps=20, batch_size=2, patch_size=32, learning_rate=0.01,
                            device="cpu", val_fraction=0.0)
    after = finetune(net, [example], config).net.state_dict()
    return any(not torch.equal(before[k], after[k]) for k in before if before[k].is_floating_point())


def test_a_two_channel_model_learns_from_the_channel_layers_of_a_hyperstack(
        studio, tmp_path, nuclei_crop):
    """Our reader opens a ZCYX hyperstack as a layer per channel; the round gets both
    channels, in the file's order, as the Segment panel gives them (it got the chosen
    layer's one channel: "has 1 channel(s), the network takes 2")."""
    image, labels = (a[4:7, 10:58, 20:76] for a in nuclei_crop)
    two = np.stack([image, image[:, ::-1] // 3], axis=1)  # ZCYX
    path = tmp_path / "zcyx.tif"
    tifffile.imwrite(path, two, imagej=True, metadata={"axes": "ZCYX"})
    studio.viewer.open(str(path), plugin="unet-studio")
    studio.viewer.layers.selection.active = studio.viewer.layers["zcyx [C1]"]
    stacked, channel, example = _example(studio.host, labels, 2)
    assert stacked.axes == "ZYXC" and channel is None
    assert example.in_channels == 2 and example.labels.shape == labels.shape
    np.testing.assert_array_equal(example.image, two.transpose(1, 0, 2, 3))
    assert _tunes(_net(2), example)


def test_a_three_channel_model_learns_from_the_rgb_of_an_rgba_layer(studio, tmp_path,
                                                                    nuclei_crop):
    """An RGBA file opens as one RGB layer; a 3-channel model learns from R, G and B, as it
    segments them (it learnt from red alone: channel 0 of the four)."""
    image, labels = (a[5, 10:74, 20:84] for a in nuclei_crop)
    grey = (image / image.max() * 255).astype(np.uint8)
    rgba = np.stack([grey, grey[::-1], grey[:, ::-1], np.full_like(grey, 255)], axis=-1)
    path = tmp_path / "rgba.tif"
    tifffile.imwrite(path, rgba, photometric="rgb", extrasamples=["unassalpha"])
    [layer] = studio.viewer.open(str(path), plugin="unet-studio")
    assert layer.rgb
    stacked, channel, example = _example(studio.host, labels, 3)
    assert stacked.axes == "YXC" and channel == slice(0, 3)
    assert example.in_channels == 3
    np.testing.assert_array_equal(example.image, rgba[..., :3].transpose(2, 0, 1))
    assert _tunes(_net(3), example)
    # A 1-channel model still learns from the channel it was segmented on.
    _, channel, example = _example(studio.host, labels, 1, recorded=1)
    assert channel == 1 and example.in_channels == 1
    np.testing.assert_array_equal(example.image, rgba[..., 1])


def test_the_train_panel_s_examples_hold_both_channels_for_a_two_channel_model(
        studio, tmp_path, nuclei_crop):
    """``collect_examples`` (what Train reads) stacks a hyperstack's channel layers for a
    2-channel model, as the Segment panel feeds it; it read the active layer's one channel."""
    from unet_studio.app.qt import train_logic
    from unet_studio.models.weights import save_model

    image, labels = (a[4:7, 10:58, 20:76] for a in nuclei_crop)
    two = np.stack([image, image[:, ::-1] // 3], axis=1)  # ZCYX
    path = tmp_path / "zcyx.tif"
    tifffile.imwrite(path, two, imagej=True, metadata={"axes": "ZCYX"})
    model = save_model(_net(2), tmp_path / "two", metadata={"name": "two", "date": "2026-01-01"})
    studio.session.set_model(str(model))
    studio.viewer.open(str(path), plugin="unet-studio")
    studio.viewer.layers.selection.active = studio.viewer.layers["zcyx [C1]"]
    studio.session.show_labels(labels.copy(), protect=False, save=False)
    studio.session.ensure_reviewed().mark_slice(1)
    [pending], _ = train_logic.collect_examples(studio.session, "image")
    example = pending.read()
    assert example.in_channels == 2
    np.testing.assert_array_equal(example.image[:, 0], two[1].astype(example.image.dtype))
