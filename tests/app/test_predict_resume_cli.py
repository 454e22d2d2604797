"""`unet-studio predict --skip-existing` resumes an interrupted batch (outputs that exist
are whole: kept, counted, their inputs skipped), and a time series linked over time says
its tracks beside the objects summed over its time points (`evaluate` as well)."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from unet_studio.app.cli import main
from unet_studio.app.io import open_stack, write_stack


def _two_inputs(folder):
    folder.mkdir()
    rng = np.random.default_rng(0)
    for index in range(2):
        write_stack(folder / f"frame{index}.tif", (rng.random((20, 22)) * 4000).astype(np.uint16),
                    axes="YX", kind="image")
    return folder / "*.tif"


def test_skip_existing_keeps_the_outputs_there_and_does_the_others(tmp_path, model_dir, capsys):
    pattern = _two_inputs(tmp_path / "in")
    out = tmp_path / "masks"
    out.mkdir()
    done = out / "frame0_mask.tif"
    done.write_bytes(b"written before the interruption")
    command = ["predict", str(pattern), "-o", str(out), "--model", str(model_dir),
               "--output-type", "mask", "--device", "cpu"]
    assert main(command) == 2  # (as before: refused, and now the way on is named)
    assert "--skip-existing" in capsys.readouterr().err
    assert main([*command, "--skip-existing", "--overwrite"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "--skip-existing" in error[0] and "--overwrite" in error[0]

    assert main([*command, "--skip-existing"]) == 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0] == f"frame0: skipped: {done} exists"
    assert lines[-2].startswith(f"frame1: wrote {out / 'frame1_mask.tif'}")
    assert lines[-1] == "1 output written, 1 skipped (already there)"
    assert done.read_bytes() == b"written before the interruption"
    with open_stack(out / "frame1_mask.tif") as result:
        assert result.shape == (20, 22)


@pytest.fixture(scope="module")
def hela_series(test_data_dir, tmp_path_factory):
    """Three time points of HeLa nuclei segmented by the default model, ids linked over time:
    (the CLI's last line, the labels)."""
    target = tmp_path_factory.mktemp("series") / "labels.tif"
    stream = io.StringIO()  # (a module's fixture: no capsys)
    with contextlib.redirect_stderr(stream):
        code = main(["predict", str(test_data_dir / "io_hela_tyx.tif"), "-o", str(target),
                     "--device", "cpu"])
    assert code == 0, stream.getvalue()
    with open_stack(target) as result:
        assert result.axes == "TYX"
        labels = result.to_numpy()
    return stream.getvalue().strip().splitlines()[-1], labels, target


def test_a_linked_time_series_says_its_tracks_beside_the_summed_objects(hela_series):
    last_line, labels, target = hela_series
    summed = sum(len(np.unique(frame[frame > 0])) for frame in labels)
    tracks = len(np.unique(labels[labels > 0]))
    assert 0 < tracks < summed  # (nuclei seen at several time points: fewer tracks)
    assert last_line == f"io_hela_tyx: wrote {target}: {summed} objects in 3 time points, {tracks} tracks"


def test_evaluate_says_the_distinct_ids_of_a_series(hela_series, tmp_path, capsys):
    _, labels, target = hela_series
    truth = labels.copy()
    truth[0][truth[0] == truth[0].max()] = 0  # one object less at the first time point
    truth_file = write_stack(tmp_path / "truth.tif", truth, axes="TYX", kind="labels")
    assert main(["evaluate", str(target), str(truth_file)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    n_pred = sum(len(np.unique(f[f > 0])) for f in labels)
    n_true = sum(len(np.unique(f[f > 0])) for f in truth)
    tracks_pred, tracks_true = (len(np.unique(a[a > 0])) for a in (labels, truth))
    assert first == (f"objects: {n_pred} predicted, {n_true} true in 3 time points; distinct ids "
                     f"(tracks): {tracks_pred} predicted, {tracks_true} true")
    assert main(["evaluate", str(target), str(truth_file), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert (scores["time_points"], scores["tracks_pred"], scores["tracks_true"]) == (
        3, tracks_pred, tracks_true)
    single = write_stack(tmp_path / "one.tif", labels[0], axes="YX", kind="labels")
    assert main(["evaluate", str(single), str(single)]) == 0  # (one image: as it was)
    assert "tracks" not in capsys.readouterr().out
