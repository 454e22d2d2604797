"""A Train round's model folder whose name is near the 255 bytes a name may take (a model
named in a script of 3-byte characters) is saved: its temporary name, the folder's with a
prefix, went over and the save failed (ENAMETOOLONG)."""

from datetime import datetime, timezone

from unet_studio.app.qt.train_round import _write_model, round_name


def test_a_model_folder_named_near_the_byte_limit_is_saved(tmp_path):
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import load_model

    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2)
    folder = tmp_path / ("核" * 84)  # 252 bytes: a folder name the disk takes
    _write_model(net, folder, {"name": folder.name})
    assert load_model(folder).metadata["name"] == folder.name
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]  # (no temporary left)


def test_a_round_of_a_long_name_in_another_script_fits_a_folder_name():
    stamp = datetime(2026, 12, 6, 17, 46, 19, tzinfo=timezone.utc)
    assert len(round_name("核" * 95, stamp).encode()) <= 240
