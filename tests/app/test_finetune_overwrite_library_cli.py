"""``finetune -o ~/.unet-studio/models/NAME --overwrite`` replaces a model of the user's
library that projects may use (recorded with its identity, they no longer find it): the
command says so before it trains."""

from __future__ import annotations

import json

import pytest
import tifffile
import torch


def test_overwriting_a_library_model_says_what_it_does_to_its_projects(
        run_finetune, model_dir, tmp_path, test_data_dir, monkeypatch):
    from unet_studio.app.commands.finetune_output import replacing_text
    from unet_studio.app.model_identity import NotThisModel
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    tifffile.imwrite(tmp_path / "img.tif", tifffile.imread(test_data_dir / "train_img.tif")[0, :64, :64])
    tifffile.imwrite(tmp_path / "lab.tif",
                     tifffile.imread(test_data_dir / "train_labels.tif")[0, :64, :64])
    library = ModelLibrary(bundled_dir=tmp_path / "no bundled")
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
