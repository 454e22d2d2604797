"""The CLI on class maps: evaluate scores IoU and Dice per class, measure gives one row per
class and time point, and predict says that the object options do not apply."""

import csv
import json

import numpy as np
import pytest
import tifffile

from unet_studio.app.cli import main

CLASSES = "background,mitochondria,membrane"


@pytest.fixture
def class_maps(tmp_path):
    """(prediction, truth, image) TIFF paths of a 2-frame TYX series of 3 classes."""
    truth = np.zeros((2, 32, 32), np.uint8)
    truth[:, 4:12, 4:12], truth[:, 20:30, :] = 1, 2
    pred = truth.copy()
    pred[:, 4:8, 4:12] = 0  # (half of class 1 missed)
    image = np.arange(truth.size, dtype=np.uint16).reshape(truth.shape) % 97
    paths = []
    for name, data in (("pred", pred), ("truth", truth), ("image", image)):
        paths.append(tmp_path / f"{name}.tif")
        tifffile.imwrite(paths[-1], data, imagej=True, metadata={"axes": "TYX"})
    return paths


@pytest.fixture
def semantic_model(tmp_path):
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.task import TaskSpec
    from unet_studio.models.weights import save_model

    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2, out_channels=3)
    folder = tmp_path / "em"
    save_model(net, folder, task=TaskSpec(kind="semantic", class_names=tuple(CLASSES.split(","))),
               metadata={"name": "em"})
    return folder


def test_evaluate_scores_class_maps_per_class(class_maps, semantic_model, capsys):
    pred, truth, _ = class_maps
    assert main(["evaluate", str(pred), str(truth), "--model", str(semantic_model), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    mito = scores["classes"]["mitochondria"]
    assert mito["iou"] == pytest.approx(0.5) and mito["dice"] == pytest.approx(2 / 3)
    assert scores["classes"]["membrane"]["iou"] == 1.0 and "f1_50" not in scores
    assert scores["mean_iou"] == pytest.approx(0.75)
    assert main(["evaluate", str(pred), str(truth), "--classes", CLASSES]) == 0
    assert "mitochondria  IoU 0.5000  Dice 0.6667" in capsys.readouterr().out


def test_evaluate_names_a_value_that_is_no_class(class_maps, capsys):
    pred, truth, _ = class_maps
    assert main(["evaluate", str(pred), str(truth), "--classes", "background,mitochondria"]) == 2
    error = capsys.readouterr().err
    assert "holds the value 2 (first at t=0, y=20, x=0)" in error and "1 mitochondria" in error


def test_measure_gives_one_row_per_class_and_frame(class_maps, tmp_path, capsys):
    pred, _, image = class_maps
    out = tmp_path / "classes.csv"
    assert main(["measure", str(pred), "--image", str(image), "--classes", CLASSES,
                 "-o", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [(r["frame"], r["class_name"], r["pixels"]) for r in rows] == [
        ("0", "mitochondria", "32"), ("0", "membrane", "320"),
        ("1", "mitochondria", "32"), ("1", "membrane", "320")]
    assert not any(c.startswith(("centroid", "bbox")) for c in rows[0])
    pixels = tifffile.imread(image)[0][tifffile.imread(pred)[0] == 2]
    assert float(rows[1]["mean_intensity"]) == pytest.approx(pixels.mean())


def test_predict_says_object_options_do_not_apply(class_maps, semantic_model, tmp_path, capsys):
    _, _, image = class_maps
    assert main(["predict", str(image), "-o", str(tmp_path / "out.tif"), "--model",
                 str(semantic_model), "--min-size", "5", "--device", "cpu"]) == 0
    error = capsys.readouterr().err
    assert "--min-size: not applied; this model puts out classes (background, mitochondria, " \
           "membrane), not objects" in error
