"""``unet-studio finetune --project DIR`` learns from a project made in the GUI (its reviewed
corrections only), reading it without changing a byte, also while a window has it open; and
refuses what is not a project, a missing image file, a project with nothing reviewed, and a
project given as --labels, in one line each."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import tifffile

from unet_studio.app.project import Project

FAST = ("--max-steps", "2", "--patch-size", "32", "--batch-size", "2", "--device", "cpu")


@pytest.fixture
def project(tmp_path, test_data_dir, monkeypatch):
    """A project as the GUI leaves it: one image file, its corrected labels, the top 40 rows
    marked reviewed (40 x 64 pixels). Returns (folder, image file)."""
    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    image = tifffile.imread(test_data_dir / "train_img.tif")[0, :64, :64]
    labels = tifffile.imread(test_data_dir / "train_labels.tif")[0, :64, :64].astype(np.int32)
    tifffile.imwrite(tmp_path / "img.tif", image)
    folder = tmp_path / "proj"
    with Project.create(folder, autosave_delay=0.0) as made:
        ref = made.add_image(str(tmp_path / "img.tif"), axes="YX", shape=image.shape)
        made.attach_labels(ref.id, labels)
        made.reviewed(ref.id, labels.shape).mark_region((slice(0, 40), slice(0, 64)))
        made.save_reviewed(ref.id)
    return folder, tmp_path / "img.tif"


def _digests(folder) -> dict:
    return {str(p.relative_to(folder)): hashlib.md5(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_a_gui_project_open_in_a_window_is_learned_from_and_left_as_it_was(run_finetune,
        tmp_path, project, model_dir, capsys):
    folder, image = project
    window = Project.open(folder)  # (a GUI has it open: it holds the lock)
    try:
        before = _digests(folder)
        code, out, err = run_finetune("--project", folder, "--model", model_dir,
                                   "-o", tmp_path / "round", *FAST)
        assert code == 0, err
        assert _digests(folder) == before  # not a byte changed, its lock still the window's
    finally:
        window.close()
    meta = json.loads((tmp_path / "round" / "config.json").read_text())["metadata"]
    assert meta["training_data"]["summary"]["reviewed_pixels"] == 40 * 64
    (source,) = meta["training_data"]["files"]
    assert source["project"] == str(folder) and source["image"] == str(image)


def test_what_cannot_be_learned_from_a_project_is_said_in_one_line(run_finetune,
        tmp_path, project, model_dir, capsys):
    folder, image = project
    out = tmp_path / "out"
    for args, said in (
            (("--image", image, "--labels", folder),
             f"{folder}: this is a unet-studio project: use --project {folder}"),
            (("--image", image, "--labels", folder / "images" / "img" / "labels"),
             f"this is inside the unet-studio project {folder}: use --project {folder}"),
            (("--project", tmp_path), f"{tmp_path}: not a unet-studio project")):
        code, _, err = run_finetune(*args, "--model", model_dir, "-o", out, *FAST)
        assert code == 2 and err.count("\n") == 1 and said in err, err
        assert not out.exists()
    image.rename(tmp_path / "moved.tif")
    code, _, err = run_finetune("--project", folder, "--model", model_dir, "-o", out, *FAST)
    assert code == 2 and err.count("\n") == 1, err
    assert f"{image}: the image file of img.tif in the project {folder} is missing" in err
    assert not out.exists()


def test_a_project_with_nothing_reviewed_is_refused(run_finetune, tmp_path, test_data_dir, model_dir, capsys,
                                                    monkeypatch):
    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    tifffile.imwrite(tmp_path / "img.tif", np.zeros((32, 32), np.uint16))
    with Project.create(tmp_path / "proj", autosave_delay=0.0) as made:
        made.add_image(str(tmp_path / "img.tif"), axes="YX")
    code, _, err = run_finetune("--project", tmp_path / "proj", "--model", model_dir,
                             "-o", tmp_path / "out", *FAST)
    assert code == 2 and "nothing is reviewed in this project" in err, err
    assert not (tmp_path / "out").exists()


def test_a_project_fine_tunes_its_current_model_unless_told(run_finetune, tmp_path, project, model_dir, capsys):
    """Without --model, --project starts from the model its corrections were made with
    (the GUI's current model, often a round accepted there), and says so."""
    folder, _ = project
    with Project.open(folder) as window:
        window.set_current_model(str(model_dir))
    code, _, err = run_finetune("--project", folder, "-o", tmp_path / "round", *FAST)
    assert code == 0, err
    assert "fine-tuning the project's current model" in err
    meta = json.loads((tmp_path / "round" / "config.json").read_text())["metadata"]
    assert meta["parent"]["path"] == str(model_dir)


def test_project_labels_of_no_class_of_a_semantic_model_are_refused_naming_the_image(
        tmp_path, project):
    """The rule of --labels class maps: a few reviewed pixels of no class are left to the
    engine (it leaves them out with a note); over a tenth of them refuse, naming the
    project's image and its file (the engine's refusal named neither)."""
    from unet_studio.app.commands.finetune_project import open_project, project_examples
    from unet_studio.app.errors import UserError

    folder, image = project
    classes = ("background", "nucleus", "nucleus edge")
    options = {"percentiles": (1.0, 99.8), "spatial_dims": 2, "in_channels": 1}
    with Project.open(folder) as window:  # (the reviewed part: 40 x 64 pixels)
        labels = window.labels("img")
        labels[:] = np.where(labels > 0, 1, 0)
        labels[5, 5:8] = 7  # (3 stray pixels)
        window.attach_labels("img", labels)
    with open_project(folder) as reader:
        (example,), _ = project_examples(reader, **options, class_names=classes)
    assert int(example.labels.max()) == 7  # kept: the engine leaves these pixels out
    with Project.open(folder) as window:
        labels[:20] = 9  # (20 x 64 of the 40 x 64 reviewed pixels)
        window.attach_labels("img", labels)
    with open_project(folder) as reader, pytest.raises(UserError) as refused:
        project_examples(reader, **options, class_names=classes)
    assert str(refused.value) == (
        f"{folder}: the labels of the image img.tif ({image}) hold the value 9, but the "
        "classes are 0 to 2 (background, nucleus, nucleus edge), in 1280 of its 2560 reviewed "
        "pixels (more than 10%): give a class map of these classes (instance labels need a "
        "model of objects)")
