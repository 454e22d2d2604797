"""Training data from reviewed corrections: what is copied at the click, what is read later."""

import numpy as np

from unet_studio.app.reviewed import ReviewedRegions
from unet_studio.app.training_data import pending_example


class _ReadLog:
    """An array-like that counts the pixels read from it (a lazy stack's stand-in)."""

    def __init__(self, data):
        self.data, self.read_pixels = data, 0
        self.shape, self.dtype, self.ndim = data.shape, data.dtype, data.ndim

    def __getitem__(self, index):
        block = self.data[index]
        self.read_pixels += block.size
        return block


def test_the_click_copies_labels_and_the_worker_reads_pixels():
    """At the click only the reviewed box of labels and masks is copied (later edits do not
    leak into the round); the pixels and their percentiles are read by ``read()``, which the
    Train panel runs in its worker thread. A 2D network on a (T, Y, X) movie gets context in
    Y and X only."""
    rng = np.random.default_rng(0)
    movie = rng.integers(0, 4000, (5, 120, 150)).astype(np.uint16)
    labels = rng.integers(0, 6, movie.shape).astype(np.int32)
    regions = ReviewedRegions(labels.shape)
    regions.mark_region((slice(2, 3), slice(50, 60), slice(70, 90)))
    pixels = _ReadLog(movie)
    pending = pending_example(pixels, "TYX", labels, regions, name="movie",
                              percentiles=(1.0, 99.8), spatial_dims=2)  # fmt: skip
    assert pixels.read_pixels == 0
    assert pending.box == (slice(2, 3), slice(18, 92), slice(38, 122))
    expected_labels = labels[pending.box].copy()
    labels[2, 50:60, 70:90] = 99  # the user edits on while the round starts
    example = pending.read()
    assert pixels.read_pixels > 0
    np.testing.assert_array_equal(example.labels, expected_labels)
    np.testing.assert_array_equal(example.image, movie[pending.box])
    assert example.reviewed.sum() == 10 * 20 and example.name == "movie"
    assert example.intensity.low[0] == np.float32(np.percentile(movie, 1.0))
    # Nothing reviewed: nothing to learn from.
    assert pending_example(pixels, "TYX", labels, ReviewedRegions(labels.shape), name="none",
                           percentiles=(1.0, 99.8)) is None  # fmt: skip


def test_the_channel_learnt_from_follows_segmentation_and_the_model():
    from unet_studio.app.training_data import ChannelView, channel_to_learn

    assert channel_to_learn("ZYX", (4, 8, 8), None, 1) is None  # no C axis
    assert channel_to_learn("CYX", (3, 8, 8), 2, 1) == 2  # as it was segmented
    assert channel_to_learn("YXC", (8, 8, 3), None, 1) == "luminance"  # the panel's default
    assert channel_to_learn("YXC", (8, 8, 3), 0, 1) == 0  # red, picked by hand
    assert channel_to_learn("CYX", (3, 8, 8), None, 3) is None  # a 3-channel model: all
    stack = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)  # (Z, C, Y, X)
    log = _ReadLog(stack)
    view = ChannelView(log, 1, 2)
    assert view.shape == (2, 4, 5) and view.ndim == 3
    np.testing.assert_array_equal(view[0:1, 1:3, ::2], stack[0:1, 2, 1:3, ::2])
    assert log.read_pixels == 1 * 2 * 3  # only that channel's pixels were read
    np.testing.assert_array_equal(np.asarray(view), stack[:, 2])


def test_a_3d_model_and_a_2d_image_is_a_message_at_the_click():
    """A 3D network cannot learn from a 2D image: said at the click, naming the image, not
    a bare IndexError from deep in the engine once the round has started."""
    import pytest

    from unet_studio.app.errors import UserError

    labels = np.zeros((40, 50), np.int32)
    regions = ReviewedRegions(labels.shape)
    regions.mark_region((slice(5, 20), slice(5, 20)))
    with pytest.raises(UserError, match="plane: a 3D model cannot learn from this 2D image"):
        pending_example(np.zeros((40, 50), np.uint16), "YX", labels, regions, name="plane",
                        percentiles=(1.0, 99.8), spatial_dims=3)  # fmt: skip
    assert pending_example(np.zeros((40, 50), np.uint16), "YX", labels, regions, name="plane",
                           percentiles=(1.0, 99.8), spatial_dims=2) is not None  # fmt: skip


def test_a_round_reads_luminance_from_the_file_of_an_image_not_open(tmp_path):
    """An RGB image of the project, not open, segmented on luminance: the round opens its
    file and reads the grey values, exactly those the CLI's ``--channel luminance`` feeds;
    luminance is refused for a model taking 3 channels and for an image of 2 channels."""
    from types import SimpleNamespace

    import pytest
    import tifffile

    from unet_studio.app.errors import UserError
    from unet_studio.app.io import open_stack
    from unet_studio.app.io.select import select
    from unet_studio.app.training_data import _pending_from_file, channel_to_learn

    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (40, 50, 3)).astype(np.uint8)
    path = tmp_path / "he.tif"
    tifffile.imwrite(path, rgb, photometric="rgb")
    labels = rng.integers(0, 4, rgb.shape[:2]).astype(np.int32)
    regions = ReviewedRegions(labels.shape)
    regions.mark_region((slice(5, 15), slice(5, 15)))

    # (a project's record of the image: its file, axes and what it was segmented on)
    ref = SimpleNamespace(id="a", name="he", path=str(path), axes="YXC", selection={"C": "luminance"})
    project = SimpleNamespace(resolve_image_path=lambda image_id: path)
    pending = _pending_from_file(project, ref, labels, regions,
                                 dict(name="he", percentiles=(1.0, 99.8), in_channels=1))
    assert pending.channel == "luminance"
    example = pending.read()
    with open_stack(path) as stack:
        cli = np.asarray(select(stack, channel="luminance").data)
    np.testing.assert_array_equal(example.image, cli[pending.box])
    np.testing.assert_allclose(example.image, (rgb @ [0.299, 0.587, 0.114])[pending.box], rtol=1e-6)
    with pytest.raises(UserError, match="c3 takes 3 channels, luminance gives one"):
        channel_to_learn("YXC", rgb.shape, "luminance", 3, model_name="c3")
    with pytest.raises(UserError, match="luminance needs an RGB or RGBA image"):
        channel_to_learn("CYX", (2, 8, 8), "luminance", 1)
