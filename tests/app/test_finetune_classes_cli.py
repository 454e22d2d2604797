"""``unet-studio finetune --classes``: --new trains a semantic network (one output per class)
on class maps, and the classes are checked before anything is trained: names that cannot be
classes, labels that are not a class map of them, and a model to fine-tune whose outputs are
others are refused in one line, exit 2, nothing written."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

CLASSES = "background,nucleus,nucleus edge"
FAST = ("--max-steps", "2", "--patch-size", "32", "--batch-size", "1", "--device", "cpu")


@pytest.fixture
def class_map(tmp_path, test_data_dir, monkeypatch):
    """(image, class map, instance labels) files of a real 64x64 crop: the class map is
    0 background, 1 inside a nucleus, 2 its edge (made from the reference nuclei)."""
    from scipy import ndimage

    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    image = tifffile.imread(test_data_dir / "train_img.tif")[0, :64, :64]
    labels = tifffile.imread(test_data_dir / "train_labels.tif")[0, :64, :64]
    inside = ndimage.grey_erosion(labels, size=3) == labels
    classes = np.where(labels == 0, 0, np.where(inside, 1, 2)).astype(np.uint8)
    assert set(np.unique(classes)) == {0, 1, 2}
    paths = tmp_path / "img.tif", tmp_path / "classes.tif", tmp_path / "objects.tif"
    for path, data in zip(paths, (image, classes, labels)):
        tifffile.imwrite(path, data)
    return paths


@pytest.fixture
def tiny_networks(monkeypatch):
    """--new builds tiny widths (a default U-Net trains slowly on a CPU); a saved model is
    loaded with its own."""
    from unet_studio.models import registry

    build = registry.build_model
    monkeypatch.setattr(registry, "build_model",
                        lambda name, **options: build(name, **{"base_channels": 4, "depth": 2, **options}))


def _refused(run_finetune, out, *args) -> str:
    code, _, err = run_finetune(*args, "-o", out, *FAST)
    assert code == 2 and err.count("\n") == 1, err
    assert not out.exists()
    return err


@pytest.mark.slow
def test_new_with_classes_trains_a_semantic_network_on_a_class_map(
        run_finetune, tmp_path, class_map, tiny_networks):
    image, classes, _ = class_map
    out = tmp_path / "organelles"
    code, _, err = run_finetune("--image", image, "--labels", classes, "--new",
                                "--classes", CLASSES, "-o", out, *FAST)
    assert code == 0, err
    config = json.loads((out / "config.json").read_text())
    assert config["task"]["kind"] == "semantic"
    assert config["task"]["class_names"] == ["background", "nucleus", "nucleus edge"]
    assert config["architecture"]["out_channels"] == 3
    # The model it made is fine-tuned again on the same classes, and on no others.
    code, _, err = run_finetune("--image", image, "--labels", classes, "--model", out,
                                "--classes", "background, nucleus, nucleus edge",
                                "-o", tmp_path / "round-2", *FAST)
    assert code == 0, err
    err = _refused(run_finetune, tmp_path / "other", "--image", image, "--labels", classes,
                   "--model", out, "--classes", "background,mitochondria,membrane")
    assert "has the classes background, nucleus, nucleus edge" in err


def test_classes_are_checked_before_training(run_finetune, tmp_path, class_map, model_dir):
    image, classes, objects = class_map
    data = ("--image", image, "--labels", classes)
    for names, said in (("background", "fewer than 2 names"),
                        ("background,,membrane", "an empty name"),
                        ("background,mito,Mito", "'Mito' is named twice"),
                        ("mito,background", "'background' is not first")):
        err = _refused(run_finetune, tmp_path / "out", *data, "--new", "--classes", names)
        assert err.startswith("unet-studio: error: --classes: ") and said in err, err
    # Instance labels (object ids up to dozens) are not a class map of 3 classes.
    err = _refused(run_finetune, tmp_path / "out", "--image", image, "--labels", objects,
                   "--new", "--classes", CLASSES)
    assert f"{objects}: holds the value {int(tifffile.imread(objects).max())}" in err
    assert "classes are 0 to 2" in err
    # A model of objects is not fine-tuned on classes.
    err = _refused(run_finetune, tmp_path / "out", *data, "--model", model_dir,
                   "--classes", CLASSES)
    assert "segments objects (instance labels), not classes" in err and "--new" in err


def test_a_few_pixels_of_no_class_are_left_out_and_many_refuse_the_run(
        run_finetune, tmp_path, class_map, tiny_networks, caplog):
    """As in the Train panel: a stray id painted into a class map (here 3 pixels of 7) is
    left out of training with a note where it is; more than a tenth of the reviewed pixels
    of no class mean the file is no class map of these classes, refused before training."""
    image, classes, _ = class_map
    stray = tifffile.imread(classes)
    stray[5, 5:8] = 7
    tifffile.imwrite(classes, stray)
    many = stray.copy()
    many[:8] = 9  # (512 of 4096 pixels, the stray ones among them: over a tenth)
    tifffile.imwrite(tmp_path / "many.tif", many)
    err = _refused(run_finetune, tmp_path / "out", "--image", image, "--labels",
                   tmp_path / "many.tif", "--new", "--classes", CLASSES)
    assert f"{tmp_path / 'many.tif'}: holds the value 9, but the classes are 0 to 2" in err
    assert "in 512 of its 4096 reviewed pixels" in err
    code, _, err = run_finetune("--image", image, "--labels", classes, "--new",
                                "--classes", CLASSES, "-o", tmp_path / "kept", *FAST)
    assert code == 0, err
    notes = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("img.tif: 3 reviewed pixels hold label 7 (first at " in note
               and "left out of training" in note for note in notes), notes
