"""``unet-studio predict --model``: a model that cannot segment images (1D) or has no usable
weights is refused at once, in one line naming it and saying what to do (exit code 2)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import tifffile

from unet_studio.app.cli import main


@pytest.fixture(scope="module")
def model_1d(tmp_path_factory):
    from unet_studio.models.registry import build_model
    from unet_studio.models.task import TaskSpec
    from unet_studio.models.weights import save_model

    net = build_model("unet", spatial_dims=1, base_channels=4, depth=2)
    folder = tmp_path_factory.mktemp("model") / "signal"
    return save_model(net, folder, task=TaskSpec(spatial_axes="X"), metadata={"name": "qa 1D"})


def _predict(tmp_path, model, capsys) -> tuple[int, str]:
    source = tmp_path / "stack.tif"
    tifffile.imwrite(source, np.zeros((4, 32, 32), np.uint16), metadata={"axes": "ZYX"},
                    photometric="minisblack")
    code = main(["predict", str(source), "-o", str(tmp_path / "out.tif"), "--model", str(model)])
    return code, capsys.readouterr().err


def test_a_1d_model_is_refused_naming_it_before_any_work(tmp_path, model_1d, capsys):
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.qt.segment_tips import ready_text

    code, err = _predict(tmp_path, model_1d, capsys)
    assert code == 2 and not (tmp_path / "out.tif").exists()
    (line,) = err.strip().splitlines()
    assert "qa 1D" in line and "1D model" in line and "use a 2D or 3D model" in line
    info = ModelLibrary(home=tmp_path / "home").get(model_1d)  # (the Segment panel, before Run)
    assert "use a 2D or 3D model" in ready_text(None, info)


def test_pickled_weights_beside_a_config_get_the_import_hint(tmp_path, model_dir, capsys):
    folder = tmp_path / "pickled"
    folder.mkdir()
    shutil.copy(model_dir / "config.json", folder)
    (folder / "model.pt").write_bytes(b"\x80\x04not really")
    code, err = _predict(tmp_path, folder, capsys)
    assert code == 2
    assert "model.pt is a pickled PyTorch file" in err and "safetensors.torch.save_file" in err
