"""``finetune`` without --patch-size/--batch-size takes the network's rank's defaults: a
--new 3D network trains on 32x64x64 x 2 (not on a 128-voxel cube x 4), a 2D one on
128x128 x 4 as before; the flags still override them."""

from __future__ import annotations

import json

import pytest
import tifffile


def test_the_flags_default_to_the_network_rank(run_finetune, tmp_path, test_data_dir,
                                                monkeypatch):
    from unet_studio.app.cli import build_parser
    from unet_studio.app.commands.finetune import make_config
    from unet_studio.models import registry

    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    build = registry.build_model  # (tiny widths: a default 3D U-Net is slow on a CPU)
    monkeypatch.setattr(registry, "build_model",
                        lambda name, **options: build(name, base_channels=4, depth=2, **options))
    volume = tifffile.imread(test_data_dir / "gui_nuclei3d_img.tif")[:8, :48, :48]
    labels = tifffile.imread(test_data_dir / "gui_nuclei3d_labels.tif")[:8, :48, :48]
    tifffile.imwrite(tmp_path / "vol.tif", volume, metadata={"axes": "ZYX"})
    tifffile.imwrite(tmp_path / "vol_labels.tif", labels, metadata={"axes": "ZYX"})
    code, _, err = run_finetune("--image", tmp_path / "vol.tif", "--labels",
                                tmp_path / "vol_labels.tif", "--new", "--spatial-dims", "3",
                                "-o", tmp_path / "out", "--max-steps", "1", "--device", "cpu")
    assert code == 0, err
    saved = json.loads((tmp_path / "out" / "config.json").read_text())["metadata"]
    assert saved["finetune"]["config"]["patch_size"] == [32, 64, 64]
    assert saved["finetune"]["config"]["batch_size"] == 2
    args = build_parser()[0].parse_args(["finetune", "--image", "a.tif", "--labels", "b.tif",
                                         "-o", "out"])
    flat = make_config(args)
    assert flat.patch_size == 128 and flat.batch_size == 4
    args.patch_size, args.batch_size = 48, 3
    told = make_config(args, 3)
    assert told.patch_shape(3) == (48, 48, 48) and told.batch_size == 3


@pytest.mark.parametrize("flag", ["--patch-size", "--batch-size"])
def test_a_refused_size_names_its_flag(flag):
    from unet_studio.app.cli import build_parser
    from unet_studio.app.commands.finetune import make_config
    from unet_studio.app.errors import UserError

    args = build_parser()[0].parse_args(["finetune", "--image", "a.tif", "--labels", "b.tif",
                                         "-o", "out", flag, "0"])
    with pytest.raises(UserError, match=flag):
        make_config(args, 3)
