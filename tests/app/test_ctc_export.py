"""Export in the Cell Tracking Challenge's format (`app.ctc_export`, `unet-studio export-ctc`):
masks numbered by track, res_track.txt with the parents of divisions and gaps, a folder
written whole or not at all."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet_studio.app.cli import main
from unet_studio.app.ctc_export import iter_export_ctc
from unet_studio.app.errors import UserError
from unet_studio.models.generators import drain, relay

# Track lines of `series()`, label order = (first frame, id): id 3 (0-1), id 5 (0-1), id 9
# (0-2); at 2 id 3 divides, goes on (cut: a new track) beside its new daughter 7; at 3 id 5
# is back after a gap, and 9's daughters 11 and 12 both have new ids.
EXPECTED_TRACKS = ["1 0 1 0", "2 0 1 0", "3 0 2 0", "4 2 4 1", "5 2 4 1", "6 3 4 2",
                   "7 3 4 3", "8 3 4 3"]
# {time point: {id in the labels: its track's label in the mask}}
EXPECTED_LABELS = {0: {3: 1, 5: 2, 9: 3}, 1: {3: 1, 5: 2, 9: 3}, 2: {3: 4, 7: 5, 9: 3},
                   3: {3: 4, 7: 5, 5: 6, 11: 7, 12: 8}, 4: {3: 4, 7: 5, 5: 6, 11: 7, 12: 8}}


def series() -> np.ndarray:
    """(T, Y, X) = (5, 20, 30) int32 labels, ids kept over time as the engine keeps them."""
    labels = np.zeros((5, 20, 30), np.int32)
    labels[0:2, 2:10, 2:12] = 3  # the mother ...
    labels[2:, 2:10, 2:7] = 3  # ... keeps her id in one daughter
    labels[2:, 2:10, 7:12] = 7
    labels[0:2, 12:18, 15:20] = 5  # missed at 2
    labels[3:, 12:18, 15:20] = 5
    labels[0:3, 12:18, 2:10] = 9
    labels[3:, 12:18, 2:6] = 11
    labels[3:, 12:18, 6:10] = 12
    return labels


def check_masks(folder, labels: np.ndarray) -> None:
    for t, expected in EXPECTED_LABELS.items():
        mask = tifffile.imread(folder / f"mask{t:03d}.tif")
        assert mask.dtype == np.uint16 and mask.shape == labels.shape[1:]
        assert np.array_equal(mask == 0, labels[t] == 0)
        for id_, label in expected.items():
            assert set(np.unique(mask[labels[t] == id_]).tolist()) == {label}, (t, id_)


def test_division_and_gap_give_parents_and_masks_numbered_by_track(tmp_path):
    labels = series()
    folder = tmp_path / "01_RES"
    fractions = []
    done = drain(relay(iter_export_ctc(labels, "TYX", folder), fractions.append))
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert (done.tracks, done.parents, done.divisions, done.gaps) == (8, 5, 3, 1)
    assert (folder / "res_track.txt").read_text().splitlines() == EXPECTED_TRACKS
    assert sorted(p.name for p in folder.iterdir()) == [
        *(f"mask{t:03d}.tif" for t in range(5)), "res_track.txt"]
    check_masks(folder, labels)


def test_a_memory_mapped_zyx_series_is_read_a_time_point_at_a_time(tmp_path):
    """(T, Z, Y, X) on disk, time last in the file's axis order is fine too: 3D masks."""
    labels = np.stack([series(), series()], axis=1).astype(np.uint16)  # Z = 2
    stored = np.moveaxis(labels, 0, -1)  # Z, Y, X, T
    tifffile.imwrite(tmp_path / "l.tif", stored)
    mapped = tifffile.memmap(tmp_path / "l.tif")
    drain(iter_export_ctc(mapped, "ZYXT", tmp_path / "out"))
    assert (tmp_path / "out" / "res_track.txt").read_text().splitlines() == EXPECTED_TRACKS
    mask = tifffile.imread(tmp_path / "out" / "mask002.tif")
    assert mask.shape == (2, 20, 30) and np.array_equal(mask[0], mask[1])


def test_refusals_at_the_call_and_overwrite_of_an_earlier_export_only(tmp_path):
    labels = series()
    with pytest.raises(UserError, match="no T axis"):
        iter_export_ctc(labels[0], "YX", tmp_path / "a")
    full = tmp_path / "full"
    full.mkdir()
    (full / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="is not empty"):
        iter_export_ctc(labels, "TYX", full)
    with pytest.raises(UserError, match="other than a CTC export"):
        iter_export_ctc(labels, "TYX", full, overwrite=True)
    assert (full / "notes.txt").read_text() == "mine"
    earlier = tmp_path / "earlier"
    drain(iter_export_ctc(labels[:2], "TYX", earlier))
    drain(iter_export_ctc(labels, "TYX", earlier, overwrite=True))
    assert (earlier / "res_track.txt").read_text().splitlines() == EXPECTED_TRACKS
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_cancelled_export_leaves_nothing(tmp_path):
    steps = iter_export_ctc(series(), "TYX", tmp_path / "out")
    while next(steps) < 0.7:  # (into the writing pass)
        pass
    steps.close()
    assert list(tmp_path.iterdir()) == []


def test_more_tracks_than_uint16_is_an_error_and_writes_nothing(tmp_path, monkeypatch):
    from unet_studio.app import ctc_export

    monkeypatch.setattr(ctc_export, "MAX_TRACKS", 7)  # (65536 tracks: a slow test)
    with pytest.raises(ctc_export.TooManyTracksError, match="8 tracks, more than the 7"):
        drain(iter_export_ctc(series(), "TYX", tmp_path / "out"))
    assert list(tmp_path.iterdir()) == []


def test_cli_writes_the_folder_and_refuses_with_exit_2(tmp_path, capsys):
    source = tmp_path / "labels.tif"
    tifffile.imwrite(source, series().astype(np.uint16), imagej=True, metadata={"axes": "TYX"})
    out = tmp_path / "01_RES"
    assert main(["export-ctc", str(source), "-o", str(out)]) == 0
    assert capsys.readouterr().out == (  # (the parts add up: 3 + 1 + 1)
        f"8 tracks (5 with a parent: 3 from divisions, 1 a mother's id going on, 1 after a "
        f"gap) from 6 ids (a new track starts where an id comes back after missing frames or "
        f"goes on after its division) in 5 frames of {source}: wrote {out}\n")
    assert (out / "res_track.txt").read_text().splitlines() == EXPECTED_TRACKS
    check_masks(out, series())

    assert main(["export-ctc", str(source), "-o", str(out)]) == 2
    assert capsys.readouterr().err == (f"unet-studio: error: {out}: is not empty; give a new or "
                                       "empty folder (--overwrite replaces an earlier export)\n")
    assert main(["export-ctc", str(source), "-o", str(out), "--overwrite"]) == 0
    capsys.readouterr()

    volume = tmp_path / "volume.tif"
    tifffile.imwrite(volume, series().astype(np.uint16), imagej=True, metadata={"axes": "ZYX"})
    assert main(["export-ctc", str(volume), "-o", str(tmp_path / "v")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"unet-studio: error: {volume}: has no T axis (ZYX)")
    assert err.count("\n") == 1 and not (tmp_path / "v").exists()
