"""``unet-studio finetune`` refuses what cannot be training labels or settings, in one line
naming the file or the flag, exit 2, nothing written; and says so when the held-out data
holds no object rather than printing a "perfect" F1."""

import numpy as np
import pytest
import tifffile

from unet_studio.app.cli import main


@pytest.fixture
def crop(tmp_path, test_data_dir, monkeypatch):
    """A 64x80 crop of a real image (its path) and a home that is not the user's."""
    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    image = tifffile.imread(test_data_dir / "train_img.tif")[0, :64, :80]
    tifffile.imwrite(tmp_path / "img.tif", image)
    tifffile.imwrite(tmp_path / "empty_labels.tif", np.zeros(image.shape, np.uint16))
    return tmp_path / "img.tif"


def _finetune(capsys, *args):
    code = main(["finetune", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def _refused(capsys, out_dir, *args) -> str:
    code, _, err = _finetune(capsys, *args, "-o", out_dir)
    assert code == 2 and err.count("\n") == 1, err
    assert not out_dir.exists()
    return err


def test_an_intensity_image_given_as_labels_is_refused_as_measure_refuses_it(
        tmp_path, crop, model_dir, capsys):
    err = _refused(capsys, tmp_path / "out", "--image", crop, "--labels", crop,
                   "--model", model_dir, "--max-steps", 1)
    assert f"{crop}: looks like an intensity image, not labels" in err
    assert main(["measure", str(crop), "-o", str(tmp_path / "m.csv")]) == 2
    assert f"{crop}: looks like an intensity image, not labels" in capsys.readouterr().err


def test_labels_without_an_object_need_a_reviewed_mask(tmp_path, crop, model_dir, capsys):
    labels = tmp_path / "empty_labels.tif"
    err = _refused(capsys, tmp_path / "out", "--image", crop, "--labels", labels,
                   "--model", model_dir, "--max-steps", 1)
    assert f"{labels}: holds no object" in err and "--reviewed" in err
    # Reviewed, the same empty labels are a real "nothing here" example: trained on; the
    # held-out part holds no object, so no F1 is printed (it would be a "perfect" 1.0).
    tifffile.imwrite(tmp_path / "reviewed.tif", np.ones((64, 80), np.uint8))
    code, out, err = _finetune(capsys, "--image", crop, "--labels", labels, "--reviewed",
                               tmp_path / "reviewed.tif", "--model", model_dir, "--max-steps", 1,
                               "--patch-size", 32, "--batch-size", 1, "--device", "cpu",
                               "-o", tmp_path / "background")
    assert code == 0, err
    assert "no objects in the held-out data" in out and "val_loss" in out
    assert "f1_50" not in out and "ap_50" not in out and "held-out score" not in err
    assert (tmp_path / "background" / "config.json").exists()


@pytest.mark.parametrize("flag, value", [("--max-seconds", "-1"), ("--batch-size", "0"),
                                         ("--learning-rate", "0"), ("--max-steps", "0")])
def test_an_out_of_range_option_is_named_by_its_flag(tmp_path, crop, model_dir, capsys,
                                                      flag, value):
    err = _refused(capsys, tmp_path / "out", "--image", crop, "--labels", crop,
                   "--model", model_dir, flag, value)
    assert f"error: {flag} must be " in err and "_" not in err.split("error:")[1].split()[0]


def test_a_patch_size_too_small_is_said_in_the_flag_s_terms(tmp_path, crop, model_dir, capsys):
    err = _refused(capsys, tmp_path / "out", "--image", crop, "--labels", crop,
                   "--model", model_dir, "--patch-size", "4")
    assert "error: --patch-size must be at least 8 pixels, got 4" in err
