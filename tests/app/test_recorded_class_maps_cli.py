"""The CLI on a labels file that records its class names (a class map as predict writes it
for a semantic model), without --classes or --model: export-ctc refuses it, evaluate and
measure work per class and say so, info names the classes."""

import json

import numpy as np
import pytest
import tifffile

from unet_studio.app.cli import main
from unet_studio.app.io.write import write_stack

CLASSES = ["background", "nucleus", "edge"]


@pytest.fixture
def class_map(tmp_path):
    """(recorded, plain): a 2-frame TYX class map of CLASSES saved with its class names, and
    its ground truth saved by another program (an ImageJ TIFF recording none)."""
    truth = np.zeros((2, 24, 24), np.uint8)
    truth[:, 2:10, 2:10], truth[:, 16:22, :] = 1, 2
    pred = truth.copy()
    pred[:, 2:6, 2:10] = 0  # (half of the nucleus missed)
    recorded = write_stack(tmp_path / "pred_labels.tif", pred, axes="TYX", class_names=CLASSES)
    plain = tmp_path / "truth.tif"
    tifffile.imwrite(plain, truth, imagej=True, metadata={"axes": "TYX"})
    return recorded, plain


def test_export_ctc_refuses_a_class_map(class_map, tmp_path, capsys):
    target = tmp_path / "ctc"
    assert main(["export-ctc", str(class_map[0]), "-o", str(target)]) == 2
    error = capsys.readouterr().err
    assert "is a class map (background, nucleus, edge), not objects" in error
    assert len(error.strip().splitlines()) == 1 and not target.exists()


def test_evaluate_scores_by_the_classes_one_file_records(class_map, tmp_path, capsys):
    recorded, plain = class_map
    assert main(["evaluate", str(recorded), str(plain)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("class map (recorded classes: background, nucleus, edge; recorded by")
    assert "nucleus     IoU 0.5000  Dice 0.6667" in out and "objects:" not in out
    # (JSON stays JSON: the note goes to stderr)
    assert main(["evaluate", str(plain), str(recorded), "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["classes"]["edge"]["iou"] == 1.0 and "recorded classes" in err
    # An explicit --classes wins over what the file records.
    assert main(["evaluate", str(recorded), str(plain), "--classes", "bg,a,b"]) == 0
    out = capsys.readouterr().out
    assert "recorded classes" not in out and out.startswith("bg ")


def test_measure_gives_a_recorded_class_map_one_row_per_class(class_map, tmp_path, capsys,
                                                              csv_rows):
    out = tmp_path / "classes.csv"
    assert main(["measure", str(class_map[0]), "-o", str(out)]) == 0
    assert capsys.readouterr().out.startswith("class map (recorded classes: background, "
                                              "nucleus, edge)\n2 classes (nucleus, edge)")
    assert [(r["frame"], r["class_name"], r["pixels"]) for r in csv_rows(out)] == [
        ("0", "nucleus", "32"), ("0", "edge", "144"), ("1", "nucleus", "32"), ("1", "edge", "144")]


def test_info_names_the_classes_of_a_class_map(class_map, capsys):
    assert main(["info", str(class_map[0])]) == 0
    assert "content:      class map of 3 classes: 0 background, 1 nucleus, 2 edge" \
        in capsys.readouterr().out
