"""The Models panel's card says what a model puts out (objects or its classes) and what it
was trained on in words: files by name and counts, not the raw record of the run."""

from __future__ import annotations

import pytest


def _saved(folder, out_channels: int, task=None, metadata=None, in_channels: int = 1):
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=2, in_channels=in_channels, out_channels=out_channels,
                      base_channels=4, depth=2)
    return save_model(net, folder, task=task, metadata=metadata)


@pytest.fixture
def organelles(tmp_path):
    """A semantic model folder whose config records a command-line training run."""
    from unet_studio.models.task import TaskSpec

    task = TaskSpec(kind="semantic", class_names=("background", "mitochondria", "membrane"))
    record = {"files": [{"image": str(tmp_path / "em" / "stack.tif"),
                         "labels": str(tmp_path / "em" / "stack_classes.tif"),
                         "reviewed": None, "axes": "ZYX"}],
              "summary": {"examples": 1, "slabs": 3, "reviewed_pixels": 196608,
                          "changed_pixels": 0, "val_pixels": 28672, "val_blocks": 7,
                          "replay_examples": 0, "data_hash": "b78de16763f8b87ca8d66891633804b6"}}
    return _saved(tmp_path / "organelles", 3, task, {"name": "organelles", "training_data": record})


def _facts(folder) -> dict[str, str]:
    from unet_studio.app.model_folder import model_info
    from unet_studio.app.qt.model_card import card_markdown

    lines = card_markdown(model_info(folder, source="folder")).splitlines()
    return dict(line[2:].split(": ", 1) for line in lines if line.startswith("- ") and ": " in line)


def test_the_card_names_the_classes_and_the_training_files(organelles):
    facts = _facts(organelles)
    assert facts["outputs"] == "classes: background, mitochondria, membrane"
    assert facts["training data"] == ("1 image: stack.tif (labels stack_classes.tif); "
                                      "196,608 reviewed pixels (28,672 held out for scoring)")


def test_a_model_of_objects_says_so_with_or_without_a_saved_task(tmp_path):
    import json

    from unet_studio.models.task import TaskSpec

    folder = _saved(tmp_path / "nuclei", 3, TaskSpec(), {"training_data": ["HeLa frames 0-2"]})
    assert _facts(folder)["outputs"] == "objects (instance labels)"
    assert _facts(folder)["training data"] == "HeLa frames 0-2"
    config = json.loads((folder / "config.json").read_text())
    del config["task"]  # (an older config: loading takes 3 outputs for objects)
    (folder / "config.json").write_text(json.dumps(config))
    assert _facts(folder)["outputs"] == "objects (instance labels)"


def test_a_model_that_inverts_its_input_says_so_and_one_that_does_not_says_nothing(tmp_path):
    """A second round on phase contrast keeps its parent's inverted input and said nothing of
    it: the facts on top of every card say it from the model's task, whichever round made it."""
    from unet_studio.models.task import TaskSpec

    inverted = _saved(tmp_path / "rods", 3, TaskSpec(invert_intensity=True))
    plain = _saved(tmp_path / "nuclei", 3, TaskSpec())
    assert _facts(inverted)["input"] == "inverted (objects darker than background, as in phase contrast)"
    assert "input" not in _facts(plain)


def test_the_cards_own_title_is_no_top_heading_in_the_panel(tmp_path):
    """The facts start with the model's name; the card.md under them repeats it as its title,
    which as a top heading broke a long version name over two lines in the docked panel."""
    from unet_studio.app.model_folder import model_info
    from unet_studio.app.qt.model_card import card_markdown
    from unet_studio.models.task import TaskSpec

    folder = _saved(tmp_path / "nuclei", 3, TaskSpec())
    (folder / "card.md").write_text("# nuclei-ft-20261207-165301\n\nnotes\n\n## Data\n\n- frames 0-2\n")
    shown = card_markdown(model_info(folder, source="folder")).splitlines()
    assert "### nuclei-ft-20261207-165301" in shown and "#### Data" in shown
    assert not [line for line in shown if line.startswith(("# ", "## "))]
    assert "- frames 0-2" in shown and "notes" in shown


def test_the_card_says_how_many_channels_the_model_takes(tmp_path):
    """QA: a two-channel model's card never said so (only config.json did): a colleague
    given its folder could not tell which files it takes."""
    assert _facts(_saved(tmp_path / "one", 3))["input channels"] == "1"
    two = _saved(tmp_path / "two", 3, in_channels=2)
    assert _facts(two)["input channels"] == "2 (all of an image's, in its channel order)"
