"""`unet-studio predict` on RGB(A) and multichannel files: an RGBA image gives its RGB to a
model taking 3 channels (the Segment panel does too), and a refused file says what would
help, never --channel where picking one channel cannot."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet_studio.app.cli import main
from unet_studio.app.io import open_stack


@pytest.fixture(scope="module")
def three_channel_model(tmp_path_factory):
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    torch.manual_seed(3)
    net = build_model("unet", spatial_dims=2, in_channels=3, base_channels=4, depth=2)
    return save_model(net, tmp_path_factory.mktemp("model") / "rgb")


def _rgb(seed=0) -> np.ndarray:
    return (np.random.default_rng(seed).random((40, 44, 3)) * 255).astype(np.uint8)


def _predict(source, model, target) -> int:
    return main(["predict", str(source), "-o", str(target), "--model", str(model),
                 "--device", "cpu", "--output-type", "probabilities"])


def test_rgba_gives_its_rgb_to_a_three_channel_model(tmp_path, three_channel_model):
    rgb = _rgb()
    tifffile.imwrite(tmp_path / "rgb.tif", rgb, photometric="rgb")
    alpha = np.random.default_rng(1).integers(0, 256, rgb.shape[:2], dtype=np.uint8)  # (ignored)
    tifffile.imwrite(tmp_path / "rgba.tif", np.dstack([rgb, alpha]), photometric="rgb",
                     extrasamples=[2])
    assert _predict(tmp_path / "rgb.tif", three_channel_model, tmp_path / "a.tif") == 0
    assert _predict(tmp_path / "rgba.tif", three_channel_model, tmp_path / "b.tif") == 0
    with open_stack(tmp_path / "a.tif") as a, open_stack(tmp_path / "b.tif") as b:
        assert b.axes == "CYX" and b.shape == (3, 40, 44)
        np.testing.assert_allclose(b.to_numpy(), a.to_numpy(), atol=1e-6)


def test_too_few_channels_do_not_send_the_user_to_channel(tmp_path, three_channel_model, capsys):
    """Two channels for a model taking 3: --channel (one of them) cannot help."""
    source = tmp_path / "two.tif"
    tifffile.imwrite(source, np.zeros((2, 30, 30), np.uint16), imagej=True, metadata={"axes": "CYX"})
    assert _predict(source, three_channel_model, tmp_path / "out.tif") == 2
    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert message.endswith(f"{source}: the model takes 3 channel(s), the image has 2")
    assert not (tmp_path / "out.tif").exists()


@pytest.mark.parametrize(("channels", "hint"), [
    (2, "; choose one with --channel INDEX"),
    (3, "; choose one with --channel INDEX (or --channel luminance for RGB)"),
])
def test_a_one_channel_model_on_channels_names_the_choice(tmp_path, model_dir, capsys, channels, hint):
    source = tmp_path / "many.tif"
    tifffile.imwrite(source, np.zeros((channels, 30, 30), np.uint16), imagej=True,
                     metadata={"axes": "CYX"})
    assert _predict(source, model_dir, tmp_path / "out.tif") == 2
    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert message.endswith(f"the model takes 1 channel(s), the image has {channels}{hint}")


def test_png_and_jpeg_segment_as_their_tiff_does(tmp_path, three_channel_model, model_dir):
    """H&E and brightfield images come as PNG or JPEG: napari opens them (its own reader)
    and so does the command line (it refused them: "is not a TIFF file")."""
    import imageio.v3 as iio

    rgb = _rgb()
    tifffile.imwrite(tmp_path / "rgb.tif", rgb, photometric="rgb")
    iio.imwrite(tmp_path / "rgb.png", np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)]))
    iio.imwrite(tmp_path / "rgb.jpg", rgb)
    assert _predict(tmp_path / "rgb.tif", three_channel_model, tmp_path / "tif.tif") == 0
    assert _predict(tmp_path / "rgb.png", three_channel_model, tmp_path / "png.tif") == 0
    assert _predict(tmp_path / "rgb.jpg", three_channel_model, tmp_path / "jpg.tif") == 0
    with open_stack(tmp_path / "tif.tif") as tif, open_stack(tmp_path / "png.tif") as png, \
            open_stack(tmp_path / "jpg.tif") as jpg:
        assert png.shape == jpg.shape == (3, 40, 44)
        np.testing.assert_allclose(png.to_numpy(), tif.to_numpy(), atol=1e-6)
    assert main(["predict", str(tmp_path / "rgb.png"), "-o", str(tmp_path / "grey.tif"),
                 "--model", str(model_dir), "--channel", "luminance", "--device", "cpu"]) == 0
    with open_stack(tmp_path / "grey.tif") as grey:
        assert grey.axes == "YX" and grey.shape == (40, 44)


def test_a_damaged_png_is_named(tmp_path, model_dir, capsys):
    broken = tmp_path / "slide.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    assert _predict(broken, model_dir, tmp_path / "out.tif") == 2
    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert message.startswith(f"unet-studio: error: {broken}: is not a readable PNG image")


def test_channel_with_a_model_taking_all_the_channels_says_to_drop_it(tmp_path, three_channel_model,
                                                                     capsys):
    """QA: --channel 1 on a file of as many channels as the model takes said "the model takes
    2 channel(s), the image has 1" (--channel had cut them to one)."""
    source = tmp_path / "three.tif"
    tifffile.imwrite(source, np.zeros((3, 30, 30), np.uint16), imagej=True, metadata={"axes": "CYX"})
    code = main(["predict", str(source), "-o", str(tmp_path / "out.tif"), "--model",
                 str(three_channel_model), "--device", "cpu", "--channel", "1"])
    assert code == 2
    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert message.endswith("--channel 1: the model takes 3 channels, all of the image's, in its "
                            "order; drop --channel")
    assert not (tmp_path / "out.tif").exists()
