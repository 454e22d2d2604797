"""``unet-studio finetune --labels CLASSMAP``: a few reviewed pixels of no class of the
model are left out of training with a note that says where they are in the user's file,
in its axes ("t=1, y=40, x=20", as the Train panel says), not as an index into the crop of
the reviewed region the engine trains on."""

from __future__ import annotations

import numpy as np
import tifffile

CLASSES = ("background", "nucleus", "nucleus edge")
FAST = ("--max-steps", "1", "--patch-size", "32", "--batch-size", "1", "--device", "cpu")


def test_the_note_on_stray_pixels_gives_their_position_in_the_file(
        run_finetune, tmp_path, test_data_dir, nucleus_classes_model, caplog, monkeypatch):
    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    image = tifffile.imread(test_data_dir / "train_img.tif")[:2, :64, :64]
    classes = (tifffile.imread(test_data_dir / "train_labels.tif")[:2, :64, :64] > 0)
    classes = classes.astype(np.uint8)
    classes[1, 40, 20:23] = 7  # (a stray id painted into the second time point)
    reviewed = np.zeros(classes.shape, np.uint8)
    reviewed[1, 30:60, 10:60] = 1  # (trained on: a crop far from the file's origin)
    files = {"img.tif": image, "classes.tif": classes, "reviewed.tif": reviewed}
    for name, data in files.items():  # (time series, as ImageJ writes them)
        tifffile.imwrite(tmp_path / name, data, imagej=True, metadata={"axes": "TYX"})

    code, _, err = run_finetune("--image", tmp_path / "img.tif", "--labels",
                                tmp_path / "classes.tif", "--reviewed", tmp_path / "reviewed.tif",
                                "--model", nucleus_classes_model, "-o", tmp_path / "out", *FAST)
    assert code == 0, err
    notes = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("img.tif: 3 reviewed pixels hold label 7 (first at t=1, y=40, x=20), no class"
               in note for note in notes), notes
