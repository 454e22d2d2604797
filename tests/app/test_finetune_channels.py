"""``unet-studio finetune`` feeds a model the channels prediction fed it: all of a 2-channel
hyperstack to a 2-channel model, the RGB of an RGBA image to a 3-channel model, the
``--channel`` picked for a 1-channel model; and the tuned model predicts on the same files."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet_studio.app.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def nuclei(test_data_dir) -> tuple[np.ndarray, np.ndarray]:
    """(image, labels) (Y, X) = (96, 96): one frame of real nuclei and their labels."""
    image = tifffile.imread(test_data_dir / "train_img.tif")[0, 32:128, 32:128]
    labels = tifffile.imread(test_data_dir / "train_labels.tif")[0, 32:128, 32:128]
    return image, labels.astype(np.uint16)


def _model(tmp_path, in_channels: int):
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    torch.manual_seed(in_channels)
    net = build_model("unet", spatial_dims=2, in_channels=in_channels, base_channels=4, depth=2)
    return save_model(net, tmp_path / f"c{in_channels}")


def _finetune(tmp_path, image, labels, model, *extra) -> tuple[int, object]:
    from unet_studio.models.weights import load_model

    out = tmp_path / "tuned"
    code = main(["finetune", "--image", str(image), "--labels", str(labels), "--model",
                 str(model), "-o", str(out), "--max-steps", "20", "--patch-size", "64",
                 "--batch-size", "2", "--learning-rate", "0.01", "--device", "cpu", *extra])
    return code, load_model(out)


def _changed(before, after) -> bool:
    import torch

    old, new = before.state_dict(), after.state_dict()
    return any(not torch.equal(old[name], new[name]) for name in old
               if old[name].dtype.is_floating_point)


def _predict(tmp_path, image, model) -> np.ndarray:
    target = tmp_path / "after.tif"
    assert main(["predict", str(image), "-o", str(target), "--model", str(model),
                 "--device", "cpu", "--overwrite"]) == 0
    return tifffile.imread(target)


def test_a_two_channel_model_learns_from_both_channels_of_a_hyperstack(tmp_path, nuclei,
                                                                       monkeypatch):
    from unet_studio.models.weights import load_model

    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    image, labels = nuclei
    path = tmp_path / "two.tif"
    tifffile.imwrite(path, np.stack([image, image[:, ::-1] // 3]), imagej=True,
                     metadata={"axes": "CYX"})
    tifffile.imwrite(tmp_path / "labels.tif", labels)
    model = _model(tmp_path, 2)
    code, tuned = _finetune(tmp_path, path, tmp_path / "labels.tif", model)
    assert code == 0 and int(tuned.in_channels) == 2
    assert _changed(load_model(model), tuned)
    assert _predict(tmp_path, path, tmp_path / "tuned").shape == labels.shape


def test_a_three_channel_model_learns_from_the_rgb_of_an_rgba_image(tmp_path, nuclei,
                                                                   monkeypatch):
    from unet_studio.models.weights import load_model

    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    image, labels = nuclei
    grey = (image / image.max() * 255).astype(np.uint8)
    rgba = np.stack([grey, grey[::-1], grey[:, ::-1], np.full_like(grey, 255)], axis=-1)
    path = tmp_path / "rgba.tif"
    tifffile.imwrite(path, rgba, photometric="rgb", extrasamples=["unassalpha"])
    tifffile.imwrite(tmp_path / "labels.tif", labels)
    model = _model(tmp_path, 3)
    code, tuned = _finetune(tmp_path, path, tmp_path / "labels.tif", model)
    assert code == 0 and int(tuned.in_channels) == 3
    assert _changed(load_model(model), tuned)
    assert _predict(tmp_path, path, tmp_path / "tuned").shape == labels.shape


def test_a_one_channel_model_learns_from_the_channel_given(tmp_path, nuclei, monkeypatch,
                                                         capsys):
    """Without --channel it is refused before any training, naming the file (as predict
    refuses it); with --channel it learns from that channel."""
    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    image, labels = nuclei
    path = tmp_path / "two.tif"
    tifffile.imwrite(path, np.stack([image[:, ::-1] // 3, image]), imagej=True,
                     metadata={"axes": "CYX"})
    tifffile.imwrite(tmp_path / "labels.tif", labels)
    model = _model(tmp_path, 1)
    code = main(["finetune", "--image", str(path), "--labels", str(tmp_path / "labels.tif"),
                 "--model", str(model), "-o", str(tmp_path / "tuned"), "--max-steps", "1"])
    error = capsys.readouterr().err
    assert code == 2 and "two.tif: gives 2 channel(s) (CYX), the model takes 1" in error
    assert "--channel" in error and not (tmp_path / "tuned" / "config.json").exists()
    code, tuned = _finetune(tmp_path, path, tmp_path / "labels.tif", model, "--channel", "1")
    assert code == 0 and int(tuned.in_channels) == 1
    files = tuned.metadata["training_data"]["files"]
    assert files[0]["axes"] == "YX"  # (the channel's plane, not both)
