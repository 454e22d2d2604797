"""``unet-studio finetune`` refuses labels recorded as the other kind than its model's (a
class map for an objects model, objects for a semantic one), in one line before anything is
trained: a class map learnt as objects made a model that Segment then refused."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet_studio.app.project import Project

CLASSES = ("background", "nucleus", "nucleus edge")
FAST = ("--max-steps", "1", "--patch-size", "32", "--batch-size", "1", "--device", "cpu")


@pytest.fixture
def class_map(tmp_path, test_data_dir, monkeypatch):
    """(image file, class map (64, 64) of CLASSES' values 0..2)."""
    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    image = tifffile.imread(test_data_dir / "train_img.tif")[0, :64, :64]
    labels = tifffile.imread(test_data_dir / "train_labels.tif")[0, :64, :64]
    tifffile.imwrite(tmp_path / "img.tif", image)
    classes = (labels > 0).astype(np.int32)
    classes[:, 30:34] *= 2  # (a band of the third class)
    return tmp_path / "img.tif", classes


def _project(folder, image, labels, recorded: tuple[str, ...]):
    """A GUI-made project: ``labels`` of ``image`` recorded as ``recorded``, the top 40
    rows reviewed."""
    with Project.create(folder, autosave_delay=0.0) as made:
        ref = made.add_image(str(image), axes="YX", shape=labels.shape)
        made.attach_labels(ref.id, labels)
        made.set_image_classes(ref.id, recorded)
        made.reviewed(ref.id, labels.shape).mark_region((slice(0, 40), slice(None)))
        made.save_reviewed(ref.id)
    return folder


def test_a_project_class_map_is_refused_for_an_objects_model_and_objects_for_a_semantic_one(
        run_finetune, tmp_path, class_map, model_dir, nucleus_classes_model):
    image, classes = class_map
    out = tmp_path / "out"
    folder = _project(tmp_path / "classes-proj", image, classes, CLASSES)
    code, _, err = run_finetune("--project", folder, "--model", model_dir, "-o", out, *FAST)
    assert code == 2 and err.count("\n") == 1, err
    assert (f"{folder}: the labels of the image img.tif ({image}) are a class map (background, "
            "nucleus, nucleus edge), and the model outputs objects") in err, err
    assert "fine-tune a semantic model of background, nucleus, nucleus edge" in err
    assert not out.exists()

    objects = _project(tmp_path / "objects-proj", image, classes * 5, ())  # (ids 0, 5, 10)
    code, _, err = run_finetune("--project", objects, "--model", nucleus_classes_model, "-o", out, *FAST)
    assert code == 2 and err.count("\n") == 1, err
    assert ("are objects, and the model outputs a class map (background, nucleus, nucleus "
            "edge)") in err and "fine-tune an objects (instance) model" in err, err
    assert not out.exists()


def test_a_labels_file_recording_a_class_map_is_refused_for_an_objects_model(
        run_finetune, tmp_path, class_map, model_dir):
    from unet_studio.app.io import write_stack

    image, classes = class_map
    labels = write_stack(tmp_path / "classes.tif", classes.astype(np.uint8), axes="YX",
                         class_names=list(CLASSES))
    out = tmp_path / "out"
    code, _, err = run_finetune("--image", image, "--labels", labels, "--model", model_dir,
                                "-o", out, *FAST)
    assert code == 2 and err.count("\n") == 1, err
    assert (f"{labels}: the file records a class map (background, nucleus, nucleus edge), and "
            "the model outputs objects") in err, err
    assert not out.exists()
