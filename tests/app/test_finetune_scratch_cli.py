"""``unet-studio finetune`` from random weights (--new, or a model built untrained) never saves
the random weights as a trained model: when no step beats them on the held-out data it saves
a trained step's weights, marked as trained only that far, keeps its run, and the same command
run again goes on from there. A trained model's run keeps its starting weights as before."""

from __future__ import annotations

import json

import pytest
import tifffile

# A learning rate far too high: every step makes the held-out loss soar above the random
# start's (1.8 -> 1e11 here), so no step beats the starting weights, whatever the seed.
FAST = ("--max-steps", "2", "--patch-size", "32", "--batch-size", "2", "--device", "cpu",
        "--learning-rate", "50")


@pytest.fixture
def crop(tmp_path, test_data_dir, monkeypatch):
    """(image, labels) files of a 64x64 crop, a home that is not the user's, and tiny
    widths for the networks --new builds."""
    import torch

    from unet_studio.models import registry

    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    build = registry.build_model
    monkeypatch.setattr(registry, "build_model",
                        lambda name, **options: build(name, **{"base_channels": 4, "depth": 2,
                                                               **options}))
    torch.manual_seed(0)
    image = tifffile.imread(test_data_dir / "train_img.tif")[0, :64, :64]
    labels = tifffile.imread(test_data_dir / "train_labels.tif")[0, :64, :64]
    tifffile.imwrite(tmp_path / "img.tif", image)
    tifffile.imwrite(tmp_path / "lab.tif", labels)
    return "--image", tmp_path / "img.tif", "--labels", tmp_path / "lab.tif"


def _saved(folder) -> tuple[dict, dict]:
    """(metadata, weights) of the model folder ``folder``."""
    from safetensors.torch import load_file

    metadata = json.loads((folder / "config.json").read_text())["metadata"]
    return metadata, load_file(folder / "model.safetensors")


def _random_start(folder) -> dict:
    """The starting weights the run kept as its best (its ``best`` checkpoint)."""
    from unet_studio.models.training.checkpoint import BEST, load_checkpoint, model_state

    tensors, document = load_checkpoint(folder / ".checkpoints" / BEST)
    assert document["step"] == 0
    return model_state(tensors)


def _differs(weights: dict, start: dict) -> bool:
    import torch

    return any(not torch.equal(weights[k], start[k].to(weights[k].dtype)) for k in weights)


def test_new_saves_trained_steps_and_the_same_command_goes_on(run_finetune, tmp_path, crop):
    from unet_studio.app.model_checks import is_untrained
    from unet_studio.app.qt.train_pace import steps_from_scratch

    out = tmp_path / "nuc"
    command = (*crop, "--new", "-o", out, *FAST)
    code, said, err = run_finetune(*command)
    assert code == 0, err
    metadata, weights = _saved(out)
    assert metadata["finetune"]["best_step"] == 2  # (the engine's best was step 0)
    assert _differs(weights, _random_start(out))  # not the random weights
    assert not is_untrained(metadata) and steps_from_scratch(metadata) == 2
    assert metadata["metrics"]["val_loss"] > metadata["metrics_before"]["val_loss"]
    lines = said.splitlines()
    assert ("saved the weights of step 2 of 2: no step beat the random starting weights on "
            "the held-out data yet") in lines
    assert lines[-1].startswith("trained 2 steps from random weights (held-out loss 1.")
    assert "the model is marked as trained only 2 steps. Run the same command again to go on " \
           f"from there (it resumes from {out / '.checkpoints'})" in lines[-1]
    assert "these are the weights of step 2, hardly trained" in metadata["card"]

    # The same command again: it goes on from step 2 for 2 steps more, and replaces the model.
    code, said, err = run_finetune(*command)
    assert code == 0, err
    assert err.splitlines()[0] == (f"going on from step 2 of the run kept in "
                                   f"{out / '.checkpoints'}, for 2 steps more")
    metadata, _ = _saved(out)
    assert metadata["finetune"]["steps"] == 4 and steps_from_scratch(metadata) == 4


def test_an_untrained_model_is_trained_so_and_a_trained_one_keeps_its_start(
        run_finetune, tmp_path, crop, model_dir):
    from unet_studio.models.weights import load_model, save_model

    untrained = load_model(model_dir)  # (the Models panel's mark on a network it built)
    save_model(untrained, tmp_path / "built", metadata={"untrained": True})
    code, said, err = run_finetune(*crop, "--model", tmp_path / "built", "-o",
                                   tmp_path / "from-built", *FAST)
    assert code == 0, err
    metadata, weights = _saved(tmp_path / "from-built")
    assert metadata["finetune"]["best_step"] == 2 and metadata["steps_from_scratch"] == 2
    assert _differs(weights, _random_start(tmp_path / "from-built"))

    # A trained model (no mark): its starting weights are kept, and its run is not.
    code, said, err = run_finetune(*crop, "--model", model_dir, "-o", tmp_path / "from-trained",
                                   *FAST)
    assert code == 0, err
    metadata, weights = _saved(tmp_path / "from-trained")
    assert metadata["finetune"]["best_step"] == 0 and "steps_from_scratch" not in metadata
    assert not _differs(weights, load_model(model_dir).state_dict())
    assert "saved the starting weights: no step beat them on the held-out data" in said
    assert not (tmp_path / "from-trained" / ".checkpoints").exists()
