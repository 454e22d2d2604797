"""`unet-studio predict` says on a file's line when the model was unsure of much of what it
called objects: the default nuclei model on a HeLa crop with its intensities inverted (dark
nuclei on a bright ground, as in phase contrast), not on the crop itself."""

from __future__ import annotations

import tifffile

from unet_studio.app.cli import main


def test_only_the_line_of_the_file_the_model_was_unsure_of_says_so(tmp_path, capsys,
                                                                   test_data_dir):
    hela = test_data_dir / "default_hela_f3_img.tif"
    image = tifffile.imread(hela)
    tifffile.imwrite(tmp_path / "inverted.tif", image.max() - image)
    out = tmp_path / "out"
    assert main(["predict", str(hela), str(tmp_path / "inverted.tif"), "-o", str(out),
                 "--device", "cpu"]) == 0
    for name in ("default_hela_f3_img", "inverted"):  # (objects found in both)
        assert tifffile.imread(out / f"{name}_labels.tif").max() > 0
    lines = {line.split(":")[0]: line for line in capsys.readouterr().err.splitlines()}
    # The crop the model knows: 3.6 % of its object pixels unsure (measured), nothing said.
    assert lines["default_hela_f3_img"].endswith(" objects")
    unsure = lines["inverted"]
    assert unsure.startswith("inverted: wrote ") and "; the model was unsure of " in unsure
    share = int(unsure.split("unsure of ")[1].split(" %")[0])
    assert 8 < share < 40  # (measured: 15 %)
    assert unsure.endswith(" % of what it called objects: it may not know images like these; "
                           "correct a few objects and fine-tune it on them (unet-studio finetune)")
