"""``reviewed.npz`` says its format version (2: the masks by their marked blocks, which a
reader of whole masks takes for empty ones), and one of a newer version is refused as such,
not read as damaged marks."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.app.format_versions import NewerFormatError, reviewed_header
from unet_studio.app.reviewed import ReviewedRegions


def test_reviewed_marks_are_saved_with_their_version_and_a_newer_one_is_refused(tmp_path):
    path = tmp_path / "reviewed.npz"
    regions = ReviewedRegions((40, 50))
    regions.mark_region((slice(0, 10), slice(0, 50)))
    regions.save(path)
    assert reviewed_header(path) == {"format": "unet-studio-reviewed", "format_version": 2}
    assert ReviewedRegions.load(path).count() == 500
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    with open(path, "wb") as file:
        np.savez_compressed(file, **{**arrays, "format_version": np.array(3)})
    with pytest.raises(NewerFormatError, match=r"newer unet-studio: update unet-studio .*\(format_version 3; this version reads 1 to 2\)"):
        ReviewedRegions.load(path)
