"""Label ids `measure` and `evaluate` cannot represent (negative; uint64 above int64) are
refused with one line naming the file and exit 2, never measured as nothing or wrapped."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet_studio.app.cli import main

HUGE = 2**63 + 5  # a uint64 id that int64 would turn negative


def two_objects(dtype) -> np.ndarray:
    data = np.zeros((20, 24), dtype)
    data[2:6, 3:9] = 1
    data[10:18, 12:20] = 2
    return data


@pytest.fixture
def good(tmp_path):
    tifffile.imwrite(tmp_path / "good.tif", two_objects(np.uint16))
    return tmp_path / "good.tif"


@pytest.fixture
def negative(tmp_path):
    data = two_objects(np.int16)
    data[data == 2] = -3
    tifffile.imwrite(tmp_path / "negative.tif", data)
    return tmp_path / "negative.tif"


@pytest.fixture
def huge(tmp_path):
    data = two_objects(np.uint64)
    data[data == 2] = HUGE
    tifffile.imwrite(tmp_path / "huge.tif", data)
    return tmp_path / "huge.tif"


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_measure_refuses_negative_ids_and_writes_no_csv(tmp_path, negative, capsys):
    out = tmp_path / "table.csv"
    assert main(["measure", str(negative), "-o", str(out)]) == 2
    assert error_line(capsys) == (f"unet-studio: error: {negative}: holds negative ids (as low "
                                  "as -3); label ids must be 0 (background) or positive")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["negative.tif"]


def test_measure_refuses_uint64_ids_beyond_int64(tmp_path, huge, capsys):
    out = tmp_path / "table.csv"
    assert main(["measure", str(huge), "-o", str(out)]) == 2
    assert error_line(capsys).startswith(f"unet-studio: error: {huge}: holds the id {HUGE}")
    assert not out.exists()


def test_measure_keeps_large_uint64_ids_that_fit(tmp_path, capsys):
    data = two_objects(np.uint64)
    data[data == 2] = 2**63 - 1
    tifffile.imwrite(tmp_path / "big.tif", data)
    out = tmp_path / "table.csv"
    assert main(["measure", str(tmp_path / "big.tif"), "-o", str(out)]) == 0
    ids = [line.split(",")[0] for line in out.read_text().splitlines()[1:]]
    assert ids == ["1", str(2**63 - 1)]


@pytest.mark.parametrize("which", ["prediction", "truth"])
def test_evaluate_refuses_negative_ids_naming_the_file(good, negative, capsys, which):
    files = [negative, good] if which == "prediction" else [good, negative]
    assert main(["evaluate", *map(str, files)]) == 2
    assert error_line(capsys).startswith(f"unet-studio: error: {negative}: holds negative ids")


def test_evaluate_refuses_uint64_ids_beyond_int64(good, huge, capsys):
    assert main(["evaluate", str(good), str(huge)]) == 2
    assert error_line(capsys).startswith(f"unet-studio: error: {huge}: holds the id {HUGE}")
