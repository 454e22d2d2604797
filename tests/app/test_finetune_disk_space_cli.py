"""``unet-studio finetune -o FOLDER`` on a disk that cannot take the model and its
checkpoints refuses before training, in one line, exit 2, nothing left behind (it trained
its whole budget, then the model's save failed)."""

import shutil
from collections import namedtuple

import numpy as np
import tifffile

from unet_studio.app.cli import main

Usage = namedtuple("Usage", "total used free")


def test_a_full_output_disk_is_refused_before_training(tmp_path, test_data_dir, model_dir,
                                                       capsys, monkeypatch):
    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    image = tifffile.imread(test_data_dir / "train_img.tif")[0, :64, :80]
    labels = tifffile.imread(test_data_dir / "train_labels.tif")[0, :64, :80]
    tifffile.imwrite(tmp_path / "img.tif", image)
    tifffile.imwrite(tmp_path / "labels.tif", labels.astype(np.uint16))
    out = tmp_path / "full" / "model"
    real = shutil.disk_usage

    def disk_usage(path):  # (the -o folder's disk has 4 KiB left; the others are as they are)
        usage = real(path)
        return Usage(usage.total, usage.used, 4096) if str(out) in str(path) else usage

    monkeypatch.setattr(shutil, "disk_usage", disk_usage)
    code = main(["finetune", "--image", str(tmp_path / "img.tif"), "--labels",
                 str(tmp_path / "labels.tif"), "--model", str(model_dir), "--max-steps", "2",
                 "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert f"not enough disk space in {out} for the model and its checkpoints" in err
    assert "4.0 KiB free" in err
    assert not out.exists()
