"""Per-object measurements: the values of skimage's regionprops for every object, per frame and
channel, the same whether read in one pass or slab by slab, and a CSV that reads back."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from skimage.measure import regionprops

from unet_studio.app.errors import UserError
from unet_studio.app.measure import iter_measure
from unet_studio.app.measure_table import measure_columns, write_csv
from unet_studio.models.generators import drain


def blobs(shape, seed=0, count=6) -> np.ndarray:
    """Labels of ``count`` overlapping boxes (later ones paint over earlier ones), ids with gaps."""
    rng = np.random.default_rng(seed)
    labels = np.zeros(shape, np.int32)
    for label in range(1, count + 1):
        start = [int(rng.integers(0, n - 2)) for n in shape]
        stop = [int(min(s + rng.integers(2, max(3, n // 2)), n)) for s, n in zip(start, shape)]
        labels[tuple(slice(a, b) for a, b in zip(start, stop))] = 3 * label
    return labels


def intensities(shape, seed=1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 4000, shape).astype(np.uint16)


def measure(labels, image=None, **options):
    return drain(iter_measure(labels, image, **options))


def assert_rows_match_regionprops(rows, labels, image, letters, suffix=""):
    props = regionprops(labels, intensity_image=image)
    assert [row["label"] for row in rows] == [p.label for p in props]
    for row, p in zip(rows, props):
        assert row["pixels"] == p.area
        assert [row[f"centroid_{a}"] for a in letters] == pytest.approx(p.centroid)
        starts = [row[f"bbox_{a}_start"] for a in letters]
        stops = [row[f"bbox_{a}_stop"] for a in letters]
        assert tuple(starts + stops) == p.bbox
        if image is not None:
            assert row[f"mean_intensity{suffix}"] == pytest.approx(p.intensity_mean)
            assert row[f"integrated_intensity{suffix}"] == pytest.approx(p.intensity_mean * p.area)


def test_2d_objects_equal_regionprops_with_area_in_um2():
    labels, image = blobs((30, 41)), intensities((30, 41))
    rows = measure(labels, image, axes="YX", scale={"Y": 0.5, "X": 0.25})
    assert_rows_match_regionprops(rows, labels, image, "yx")
    assert list(rows[0]) == measure_columns("YX", scale={"Y": 0.5, "X": 0.25}, image_axes="YX")
    for row in rows:
        assert row["area_um2"] == pytest.approx(row["pixels"] * 0.125)


def test_3d_objects_equal_regionprops_with_volume_in_um3():
    labels, image = blobs((9, 20, 23), seed=2), intensities((9, 20, 23))
    rows = measure(labels, image, axes="ZYX", scale={"Z": 2.0, "Y": 0.5, "X": 0.5})
    assert_rows_match_regionprops(rows, labels, image, "zyx")
    for row in rows:
        assert row["volume_um3"] == pytest.approx(row["pixels"] * 0.5)


def test_partial_or_missing_scale_gives_no_physical_size():
    labels = blobs((5, 12, 13))
    assert "volume_um3" not in measure(labels, axes="ZYX", scale={"Y": 0.5, "X": 0.5})[0]
    row = measure(labels, axes="ZYX")[0]
    assert "volume_um3" not in row and "mean_intensity" not in row


def test_time_lapse_with_two_channels_gives_rows_per_frame_and_channel():
    frames = np.stack([blobs((6, 16, 18), seed=s) for s in (3, 4)])
    frames[1][frames[1] == 3] = 0
    frames[1][2:4, 2:5, 2:6] = 99  # in the second frame only
    image = intensities((2, 2, 6, 16, 18))  # T, C, Z, Y, X
    rows = measure(frames, image, axes="TZYX", image_axes="TCZYX")
    assert list(rows[0]) == measure_columns("TZYX", image_axes="TCZYX", channels=2)
    for t in (0, 1):
        in_frame = [row for row in rows if row["frame"] == t]
        for c in (0, 1):
            assert_rows_match_regionprops(in_frame, frames[t], image[t, c], "zyx", f"_c{c}")
    assert [row["frame"] for row in rows if row["label"] == 99] == [1]


def test_slab_by_slab_equals_one_pass_and_memmap_labels_work(tmp_path):
    labels, image = blobs((7, 24, 19), seed=5, count=9), intensities((7, 24, 19))
    stored = np.memmap(tmp_path / "labels.raw", np.int32, "w+", shape=labels.shape)
    stored[:] = labels
    stored.flush()
    one_pass = measure(labels, image, axes="ZYX")
    # pixel by pixel, rows of a plane, one plane, two, three
    for slab_pixels in (1, 19 * 5, 24 * 19, 24 * 19 * 2, 24 * 19 * 3 + 5):
        slabs = measure(np.memmap(stored.filename, np.int32, "r", shape=labels.shape), image,
                        axes="ZYX", slab_pixels=slab_pixels)
        assert len(slabs) == len(one_pass)
        for row, expected in zip(slabs, one_pass):
            assert list(row) == list(expected) and row == pytest.approx(expected)
    assert_rows_match_regionprops(one_pass, labels, image, "zyx")


def test_pages_of_a_memory_mapped_stack_are_handed_back_as_it_is_read(tmp_path, monkeypatch):
    """Reading a mapped stack keeps every page read resident: the measurement hands them
    back every RELEASE_EVERY_BYTES (the peak stays flat however big the stack: see
    benchmarks/bench_measure.py), and the rows are those of one pass in memory."""
    from unet_studio.app import measure as measuring
    from unet_studio.models import mapped

    labels = blobs((6, 24, 19), seed=3, count=7)
    stored = np.memmap(tmp_path / "labels.raw", np.int32, "w+", shape=labels.shape)
    stored[:] = labels
    stored.flush()
    released = []
    real = mapped.release_pages
    monkeypatch.setattr(mapped, "release_pages", lambda array: released.append(array) or real(array))
    monkeypatch.setattr(measuring, "RELEASE_EVERY_BYTES", 24 * 19 * 4)  # every plane of int32
    mapped_rows = measure(np.memmap(stored.filename, np.int32, "r", shape=labels.shape),
                          axes="ZYX", slab_pixels=24 * 19)
    assert len(released) >= 6 and all(isinstance(a, np.memmap) for a in released)
    assert mapped_rows == measure(labels, axes="ZYX")


def test_progress_runs_from_zero_to_one():
    steps = iter_measure(blobs((4, 10, 10)), axes="ZYX", slab_pixels=100)
    fractions = []
    while True:
        try:
            fractions.append(next(steps))
        except StopIteration:
            break
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and len(fractions) == 5
    assert fractions == sorted(fractions)


def test_sparse_huge_ids_and_bool_masks():
    labels = blobs((20, 20), seed=6)
    huge = np.where(labels > 0, labels.astype(np.int64) * 10**12, 0)
    rows = measure(huge, axes="YX")
    assert [row["label"] for row in rows] == [p.label * 10**12 for p in regionprops(labels)]
    assert [row["pixels"] for row in rows] == [p.area for p in regionprops(labels)]
    mask = measure(labels > 0, axes="YX")
    assert len(mask) == 1 and mask[0]["label"] == 1 and mask[0]["pixels"] == (labels > 0).sum()


def test_bad_labels_and_mismatched_image_raise_clear_errors():
    with pytest.raises(UserError, match="holds float32 values, not integer labels"):
        measure(np.zeros((4, 4), np.float32), axes="YX")
    with pytest.raises(UserError, match="channel axis"):
        measure(np.zeros((2, 4, 4), np.uint8), axes="CYX")
    with pytest.raises(UserError, match=r"\(4, 5\) \(YX\)"):
        measure(np.zeros((4, 4), np.uint8), np.zeros((4, 5)), axes="YX")


def test_write_csv_reads_back_the_same_values_and_leaves_no_temp_file(tmp_path):
    labels, image = blobs((12, 14), seed=7), intensities((12, 14)).astype(np.float32) / 7
    scale = {"Y": 0.3, "X": 0.3}
    rows = measure(labels, image, axes="YX", scale=scale)
    columns = measure_columns("YX", scale=scale, image_axes="YX")
    path = write_csv(rows, columns, tmp_path / "objects.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["objects.csv"]
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == columns
        back = list(reader)
    assert len(back) == len(rows)
    for row, read in zip(rows, back):
        for column in columns:
            if isinstance(row[column], int):
                assert read[column] == str(row[column])  # integers stay integers
            else:
                assert float(read[column]) == pytest.approx(row[column], rel=1e-7)


def test_the_csv_is_written_as_measured_and_a_cancel_leaves_the_old_file(tmp_path):
    from unet_studio.app.measure import iter_measure_to_csv

    labels = np.stack([blobs((10, 12), seed=t) for t in range(3)])  # (T, Y, X)
    path = tmp_path / "objects.csv"
    path.write_text("an earlier table\n")
    steps = iter_measure_to_csv(path, labels, axes="TYX", slab_pixels=40)
    while True:  # up to the second time point: the first one's rows are on disk already
        next(steps)
        temps = [p for p in tmp_path.iterdir() if p.name != "objects.csv"]
        if temps and temps[0].read_text().count("\n") > 1:
            break
    written = temps[0].read_text().splitlines()
    assert written[0].startswith("frame,label") and {line[0] for line in written[1:]} == {"0"}
    steps.close()  # cancelled: no table written, the earlier one kept, no temp file left
    assert [p.name for p in tmp_path.iterdir()] == ["objects.csv"]
    assert path.read_text() == "an earlier table\n"
    count = drain(iter_measure_to_csv(path, labels, axes="TYX", slab_pixels=40))
    with open(path, newline="", encoding="utf-8") as handle:
        back = list(csv.DictReader(handle))
    assert count == len(back) == sum(len(np.unique(frame)) - 1 for frame in labels)
    assert [int(row["frame"]) for row in back] == sorted(int(row["frame"]) for row in back)


def test_tracks_follow_each_id_over_time_points():
    """Two objects over three time points (a third only at the first): the tracks hold the
    centroid of each id at each time point, by id then time; a single sighting is no
    track; labels without T are refused."""
    from unet_studio.app.tracks import iter_tracks

    labels = np.zeros((3, 10, 12), np.int32)
    for t in range(3):
        labels[t, 1:3, t:t + 2] = 7  # moves right one pixel per time point
        labels[t, 6:9, 8:10] = 2  # stays
    labels[0, 8:10, 0:2] = 5  # seen once
    tracks = drain(iter_tracks(labels, axes="TYX"))
    expected = [[2, t, 7.0, 8.5] for t in range(3)] + [[7, t, 1.5, t + 0.5] for t in range(3)]
    np.testing.assert_allclose(tracks, expected)
    with pytest.raises(UserError, match="time series"):
        drain(iter_tracks(labels[0], axes="YX"))
