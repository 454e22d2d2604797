"""``finetune`` without --patch-size/--batch-size takes the network's rank's defaults: a
--new 3D network trains on 32x64x64 x 2 (not on a 128-voxel cube x 4), a 2D one on
128x128 x 4 as before; the flags still override them."""

from __future__ import annotations

import json

import pytest


def test_the_flags_default_to_the_network_rank(run_finetune, tmp_path, tiny_volume,
                                                monkeypatch):
    from unet_studio.app.cli import build_parser
    from unet_studio.app.commands.finetune import make_config

    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    code, _, err = run_finetune("--image", tiny_volume[0], "--labels", tiny_volume[1],
                                "--new", "--spatial-dims", "3",
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
