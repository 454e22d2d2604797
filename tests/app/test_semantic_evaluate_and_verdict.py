"""Class maps in evaluate without --classes/--model (their recorded class names used, else
a hint when they hold few values), and a from-scratch semantic round's verdict (no advice
to fine-tune the bundled objects model)."""

import json
from types import SimpleNamespace

import numpy as np
import tifffile

from unet_studio.app.cli import main
from unet_studio.app.io.write import write_stack

CLASSES = ["background", "mitochondria", "membrane"]


def _class_maps():
    truth = np.zeros((32, 32), np.uint8)
    truth[4:12, 4:12], truth[20:30, :] = 1, 2
    pred = truth.copy()
    pred[4:8, 4:12] = 0  # (half of class 1 missed)
    return pred, truth


def test_evaluate_scores_files_recording_their_classes_per_class(tmp_path, capsys):
    pred, truth = _class_maps()
    paths = [write_stack(tmp_path / f"{name}.tif", data, axes="YX", class_names=CLASSES)
             for name, data in (("pred", pred), ("truth", truth))]
    assert main(["evaluate", *map(str, paths), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["kind"] == "semantic" and list(scores["classes"]) == CLASSES
    assert scores["classes"]["mitochondria"]["iou"] == 0.5
    assert scores["classes"]["membrane"]["iou"] == 1.0


def test_evaluate_hints_that_unnamed_class_maps_need_classes(tmp_path, capsys):
    pred, truth = _class_maps()
    paths = []
    for name, data in (("pred", pred), ("truth", truth)):
        paths.append(tmp_path / f"{name}.tif")
        tifffile.imwrite(paths[-1], data)
    assert main(["evaluate", *map(str, paths)]) == 0
    out, err = capsys.readouterr()
    assert "objects: 2 predicted, 2 true" in out  # (scored as objects: the user's choice)
    assert "if they are class maps" in err and "--classes" in err and "--model" in err


def test_evaluate_gives_no_hint_for_many_objects(tmp_path, capsys):
    labels = np.zeros((40, 40), np.uint16)
    for index in range(12):
        labels[3 * index:3 * index + 2, 1:5] = index + 1
    path = tmp_path / "objects.tif"
    tifffile.imwrite(path, labels)
    assert main(["evaluate", str(path), str(path)]) == 0
    assert "class maps" not in capsys.readouterr().err


def test_a_semantic_round_from_scratch_is_not_sent_to_the_bundled_model():
    from unet_studio.app.qt.train_pace import short_round_note

    flat = SimpleNamespace(steps=40, metrics_before={"val_metric": 0.1},
                           metrics_after={"val_metric": 0.12})
    semantic = SimpleNamespace(name="em-scratch", metadata={"untrained": True},
                               task={"kind": "semantic", "class_names": CLASSES})
    note = short_round_note(flat, semantic, pace=1.0)
    assert "still essentially untrained" in note and "bundled" not in note
    objects = SimpleNamespace(name="nuclei-scratch", metadata={"untrained": True},
                              task={"kind": "instance"})
    assert "fine-tune the bundled 2D model" in short_round_note(flat, objects, pace=1.0)
