"""``finetune -o ~/.unet-studio/models/NAME --overwrite`` replaces a model of the user's
library that projects may use (recorded with its identity, they no longer find it): the
command says so before it trains."""

from __future__ import annotations

import json

import pytest
import tifffile
import torch


@pytest.fixture
def user_library(tmp_path, test_data_dir, monkeypatch):
    """A private user library (no bundled model) and a 64x64 image with its labels in
    ``tmp_path`` (img.tif, lab.tif)."""
    from unet_studio.app.model_library import ModelLibrary

    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    tifffile.imwrite(tmp_path / "img.tif", tifffile.imread(test_data_dir / "train_img.tif")[0, :64, :64])
    tifffile.imwrite(tmp_path / "lab.tif",
                     tifffile.imread(test_data_dir / "train_labels.tif")[0, :64, :64])
    return ModelLibrary(bundled_dir=tmp_path / "no bundled")


def test_overwriting_a_library_model_says_what_it_does_to_its_projects(
        run_finetune, model_dir, tmp_path, user_library):
    from unet_studio.app.commands.finetune_output import replacing_text
    from unet_studio.app.model_identity import NotThisModel
    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    library = user_library
    torch.manual_seed(1)  # (another model than the one fine-tuned, which a step may not beat)
    shared = save_model(build_model("unet", base_channels=4, depth=2),
                        library.folders["user"] / "nuclei")
    used = json.loads((shared / "config.json").read_text("utf-8"))["weights_sha256"]

    code, _, err = run_finetune("--image", tmp_path / "img.tif", "--labels", tmp_path / "lab.tif",
                                "--model", model_dir, "-o", shared, "--overwrite",
                                "--max-steps", "1", "--patch-size", "32", "--batch-size", "1",
                                "--device", "cpu")
    assert code == 0, err
    lines = err.splitlines()
    assert lines[0] == (
        "warning: replacing user:nuclei of your model library: projects that use it will not "
        "find it once it has new weights (they say a different model has that name here and "
        "use the default model); choose another -o name to keep it for them")
    # (what it says is what a project recording the model it used finds now)
    with pytest.raises(NotThisModel, match="a different model has that name here"):
        library.find("user:nuclei", used)
    assert replacing_text(model_dir) is None  # (a folder outside the library: nothing to say)


def test_no_warning_for_an_overwrite_that_is_refused(run_finetune, tmp_path, user_library):
    """Fine-tuning a library model into its own folder is refused: the warning that it
    would be replaced is not printed before the refusal (it was, then nothing happened)."""
    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    library = user_library
    shared = save_model(build_model("unet", base_channels=4, depth=2), library.folders["user"] / "nuclei")
    code, _, err = run_finetune("--image", tmp_path / "img.tif", "--labels", tmp_path / "lab.tif",
                                "--model", "user:nuclei", "-o", shared, "--overwrite",
                                "--max-steps", "1", "--device", "cpu")
    assert code == 2 and "is the model being fine-tuned" in err
    assert "warning: replacing" not in err
