"""measure and evaluate on a speckled class map (an undertrained model on noisy data: most
neighbouring pixels differ): the intensity-image check that catches swapped arguments must
not refuse a file that records its classes, nor one whose classes the user names."""

import numpy as np
import pytest
import tifffile

from unet_studio.app.cli import main
from unet_studio.app.io.tiff_write import write_uint16_labels

CLASSES = ["background", "nucleus", "nucleus edge"]


@pytest.fixture
def speckled(tmp_path):
    """(recorded, plain): the same 64x64 random class map of CLASSES, written as predict
    writes a class map (recording its class names), and as a plain TIFF recording none."""
    pixels = np.random.default_rng(0).integers(0, len(CLASSES), (64, 64), dtype=np.uint8)
    recorded = write_uint16_labels(tmp_path / "pred.tif", pixels, axes="YX", scale={},
                                   units={}, compress=False, class_names=CLASSES)
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, pixels)
    return recorded, plain


def _measure(capsys, labels, target, *options):
    code = main(["measure", str(labels), "-o", str(target), "--overwrite", *options])
    return code, capsys.readouterr()


def test_measure_takes_a_speckled_class_map(speckled, tmp_path, capsys, csv_rows,
                                            nucleus_classes_model):
    recorded, plain = speckled
    target = tmp_path / "m.csv"
    for labels, options in ((recorded, ()), (plain, ("--classes", ",".join(CLASSES))),
                            (plain, ("--model", str(nucleus_classes_model)))):
        code, captured = _measure(capsys, labels, target, *options)
        assert code == 0, (options, captured.err)
        assert [r["class_name"] for r in csv_rows(target)] == CLASSES[1:]


def test_measure_still_refuses_a_speckled_file_of_no_classes(speckled, tmp_path, capsys,
                                                             model_dir):
    plain = speckled[1]
    for options in ((), ("--model", str(model_dir))):  # (an instance model names no classes)
        code, captured = _measure(capsys, plain, tmp_path / "m.csv", *options)
        assert code == 2 and "looks like an intensity image" in captured.err


def test_evaluate_scores_speckled_class_maps(speckled, capsys):
    recorded, plain = speckled
    assert main(["evaluate", str(recorded), str(recorded)]) == 0
    assert "nucleus edge  IoU 1.0000" in capsys.readouterr().out
    assert main(["evaluate", str(plain), str(plain), "--classes", ",".join(CLASSES)]) == 0
    assert "nucleus edge  IoU 1.0000" in capsys.readouterr().out
    assert main(["evaluate", str(plain), str(plain)]) == 2
    assert "looks like an intensity image" in capsys.readouterr().err
