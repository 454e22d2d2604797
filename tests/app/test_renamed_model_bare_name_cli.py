"""A renamed user model is found by its old name on the command line, written as a ref
("user:nuclei") or bare ("nuclei"): README says the two are the same model."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet_studio.app.cli import main


@pytest.mark.parametrize("old_name", ["user:nuclei", "nuclei"])
def test_predict_finds_a_renamed_model_by_its_old_name(tmp_path, monkeypatch, model_dir,
                                                       capsys, old_name):
    from unet_studio.app.model_library import ModelLibrary

    home = tmp_path / "home"
    monkeypatch.setenv("UNET_STUDIO_HOME", str(home))
    library = ModelLibrary(home=home)
    library.import_model(model_dir, name="nuclei")
    renamed = library.rename_model("user:nuclei", "nuclei-lab")
    source, out = tmp_path / "stack.tif", tmp_path / "out.tif"
    tifffile.imwrite(source, np.zeros((32, 32), np.uint16), metadata={"axes": "YX"},
                     photometric="minisblack")
    code = main(["predict", str(source), "-o", str(out), "--model", old_name])
    assert code == 0, capsys.readouterr().err
    assert out.is_file()
    assert library.get(old_name).path == renamed.path
