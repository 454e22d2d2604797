"""A round on one channel layer of a multichannel file (our reader and napari's
``channel_axis`` open each channel as a layer) learns from that channel, whether it reads
the open layer or, the layer closed, the file: it took the file's first channel (or refused,
"opens with axes ZCYX, the project has ZYX"), not the one the layer showed and prediction fed
the model."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

pytestmark = pytest.mark.qt


@pytest.fixture
def zcyx(tmp_path, nuclei_crop):
    """(path, pixels, labels): a 2-channel ZCYX hyperstack whose channels differ."""
    image, labels = (a[4:7, 10:58, 20:76] for a in nuclei_crop)
    two = np.stack([image // 3, image[:, ::-1]], axis=1)
    path = tmp_path / "zcyx.tif"
    tifffile.imwrite(path, two, imagej=True, metadata={"axes": "ZCYX"})
    return path, two, labels


def _assert_learns_channel(pending, channel: np.ndarray) -> None:
    """The example holds exactly ``channel``'s pixels, normalised with its percentiles."""
    from unet_studio.models.normalize import percentile_range

    example = pending.read()
    assert example.in_channels == 1
    np.testing.assert_array_equal(example.image, channel[pending.box])
    low, high = percentile_range(channel, *pending.percentiles)
    assert (example.intensity.low, example.intensity.high) == (low, high)


def _correct_channel_1(studio, path, labels, reader: str) -> list:
    """Open the file's channels as layers with ``reader``, make channel 1 the image worked
    on, give it ``labels`` and mark a slice reviewed; returns the layers."""
    options = {"channel_axis": 1} if reader == "napari" else {}
    layers = studio.viewer.open(str(path), plugin=reader, **options)
    assert len(layers) == 2
    studio.viewer.layers.selection.active = layers[1]
    studio.session.show_labels(labels.copy(), protect=False, save=True)
    studio.session.ensure_reviewed().mark_slice(1)
    studio.session.reviewed_changed_by_user()
    return layers


def _assert_read_back_as(studio, layers, channel) -> None:
    """The layers closed, a round reads the image back from its file: as ``channel``."""
    from unet_studio.app.qt import train_logic

    for layer in list(layers):
        studio.viewer.layers.remove(layer)
    [pending], problems = train_logic.collect_examples(studio.session, "project")
    assert problems == []
    _assert_learns_channel(pending, channel)


@pytest.mark.slow
@pytest.mark.parametrize("reader", ["unet-studio", "napari"])
def test_a_round_learns_from_the_channel_layer_s_channel_open_or_read_from_its_file(
        studio, zcyx, reader):
    from unet_studio.app.qt import train_logic

    path, two, labels = zcyx
    layers = _correct_channel_1(studio, path, labels, reader)
    [pending], _ = train_logic.collect_examples(studio.session, "project")
    _assert_learns_channel(pending, two[:, 1])
    # The layers closed: the image is read back from its file, as channel 1 again.
    _assert_read_back_as(studio, layers, two[:, 1])


def test_a_channel_layer_closed_before_any_train_click_is_read_as_its_channel(studio, zcyx):
    """The channel is noted when the layer's image enters the project (its first labels),
    not only at a Train click: corrected, closed, then trained, it is still channel 1."""
    path, two, labels = zcyx
    layers = _correct_channel_1(studio, path, labels, "napari")
    _assert_read_back_as(studio, layers, two[:, 1])


def test_a_channel_layer_whose_channel_is_unknown_is_refused_by_name(studio_home, zcyx):
    """A channel layer never seen by a Train click (closed before): its channel cannot be
    known, and the round leaves it out, naming it, rather than learn from channel 0."""
    from unet_studio.app.project import Project
    from unet_studio.app.training_data import project_examples

    path, two, labels = zcyx
    project = Project.create(studio_home / "project")
    try:
        ref = project.add_image(str(path), axes="ZYX", name="zcyx [C1]")
        project.attach_labels(ref.id, labels, save=True)
        project.reviewed(ref.id, labels.shape).mark_slice(1)
        examples, problems = project_examples(project, skip=set(), open_image=lambda name: None,
                                              percentiles=(1.0, 99.8))
    finally:
        project.close()
    assert examples == []
    [problem] = problems
    assert problem.startswith("zcyx [C1]: one channel of") and "which one is not known" in problem
