"""`unet-studio predict`: TIFF out with the input's axes and scale; bad input -> exit 2, one
line naming the file, nothing written. A tiny real model is saved into tmp_path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from unet_studio.app.cli import main
from unet_studio.app.io import open_stack, write_stack
from unet_studio.models.registry import build_model
from unet_studio.models.task import TaskSpec
from unet_studio.models.weights import save_model

SCALE = {"Z": 2.0, "Y": 0.5, "X": 0.5}


def stack_file(folder, name="nuclei.tif", shape=(3, 40, 52), axes="ZYX", seed=0):
    image = (np.random.default_rng(seed).random(shape) * 4000).astype(np.uint16)
    scale = {a: SCALE.get(a, 1.0) for a in axes}
    return write_stack(folder / name, image, axes=axes, scale=scale, kind="image")


def files_in(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_labels_tiff_has_the_input_axes_shape_and_scale(tmp_path, model_dir, capsys):
    source = stack_file(tmp_path)
    target = tmp_path / "out" / "labels.tif"
    assert main(["predict", str(source), "-o", str(target), "--model", str(model_dir),
                 "--tile", "16", "--device", "cpu"]) == 0
    with open_stack(target) as result:
        assert result.axes == "ZYX" and result.shape == (3, 40, 52)
        assert result.scale["Z"] == pytest.approx(2.0) and result.scale["X"] == pytest.approx(0.5)
        labels = result.to_numpy()
    assert labels.dtype.kind in "iu"
    # The last line says where the labels went and how many objects they hold.
    count = len(np.unique(labels[labels > 0]))
    last_line = capsys.readouterr().err.strip().splitlines()[-1]
    # (the random-weight model is unsure of its objects: the line goes on with that hint)
    assert last_line.startswith(f"nuclei: wrote {target}: {count} object{'s' * (count != 1)}")


def test_probabilities_put_the_class_channel_first(tmp_path, model_dir):
    source = stack_file(tmp_path, shape=(2, 33, 29))
    target = tmp_path / "probabilities.tif"
    assert main(["predict", str(source), "-o", str(target), "--model", str(model_dir),
                 "--output-type", "probabilities", "--device", "cpu"]) == 0
    with open_stack(target) as result:
        # (classes where ImageJ keeps channels: the file is a TZCYX hyperstack, Fiji-ready)
        assert result.axes == "ZCYX" and result.shape == (2, 3, 33, 29)
        assert result.metadata["format"] == "imagej" and "stored_axes" not in result.metadata
        probabilities = result.to_numpy()
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_glob_of_several_files_writes_one_output_each_into_a_folder(tmp_path, model_dir):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for index in range(2):
        stack_file(inputs, name=f"frame{index}.tif", shape=(30, 31), axes="YX", seed=index)
    out = tmp_path / "masks"
    assert main(["predict", str(inputs / "*.tif"), "-o", str(out), "--model", str(model_dir),
                 "--output-type", "mask", "--device", "cpu"]) == 0
    assert files_in(out) == ["frame0_mask.tif", "frame1_mask.tif"]
    with open_stack(out / "frame1_mask.tif") as result:
        assert result.axes == "YX" and set(np.unique(result.to_numpy())) <= {0, 1}


def test_corrupt_input_exits_2_with_one_line_and_writes_nothing(tmp_path, model_dir, capsys):
    broken = tmp_path / "in" / "broken.tif"
    broken.parent.mkdir()
    broken.write_bytes(b"II*\x00" + bytes(200))
    out = tmp_path / "out"
    out.mkdir()
    code = main(["predict", str(broken), "-o", str(out / "x.tif"), "--model", str(model_dir),
                 "--device", "cpu"])
    assert code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("unet-studio: error:") and str(broken) in lines[0]
    assert files_in(out) == [] and files_in(broken.parent) == ["broken.tif"]


def test_pixels_damaged_behind_a_valid_header_leave_no_output(tmp_path, model_dir, capsys):
    """The file opens (metadata intact); decoding a compressed plane fails during the run."""
    import tifffile

    source = stack_file(tmp_path, shape=(4, 64, 64))
    with tifffile.TiffFile(source) as tif:
        start = tif.pages[2].dataoffsets[0]
    data = bytearray(source.read_bytes())
    data[start + 10:start + 60] = bytes(b ^ 0x5A for b in data[start + 10:start + 60])
    damaged = tmp_path / "damaged.tif"
    damaged.write_bytes(bytes(data))
    out = tmp_path / "out"
    code = main(["predict", str(damaged), "-o", str(out / "x.tif"), "--model", str(model_dir),
                 "--device", "cpu"])
    assert code == 2
    assert str(damaged) in capsys.readouterr().err
    assert not out.exists() or files_in(out) == []


def test_model_whose_channels_do_not_fit_is_refused_naming_the_file(tmp_path, capsys):
    net = build_model("unet", spatial_dims=2, in_channels=2, out_channels=3, base_channels=4, depth=2)
    model = save_model(net, tmp_path / "two_channel", task=TaskSpec())
    source = stack_file(tmp_path, shape=(30, 30), axes="YX")
    assert main(["predict", str(source), "-o", str(tmp_path / "o.tif"), "--model", str(model)]) == 2
    error = capsys.readouterr().err
    assert str(source) in error and "2 channel" in error
    assert not (tmp_path / "o.tif").exists()


def test_unsupported_dimensions_are_refused(tmp_path, capsys):
    net = build_model("unet", spatial_dims=3, out_channels=3, base_channels=4, depth=2)
    model = save_model(net, tmp_path / "net3d", task=TaskSpec(spatial_axes="ZYX"))
    source = stack_file(tmp_path, shape=(30, 30), axes="YX")
    assert main(["predict", str(source), "-o", str(tmp_path / "o.tif"), "--model", str(model)]) == 2
    assert "3D image with axes ZYX" in capsys.readouterr().err
    assert files_in(tmp_path) == ["net3d", "nuclei.tif"]


def test_without_a_default_model_the_error_says_what_to_do(tmp_path, monkeypatch, capsys):
    import unet_studio.app.model_library as library

    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(library, "bundled_models_dir", lambda: tmp_path / "no-models")
    source = stack_file(tmp_path, shape=(20, 20), axes="YX")
    assert main(["predict", str(source), "-o", str(tmp_path / "o.tif")]) == 2
    assert "pass --model" in capsys.readouterr().err


def test_unavailable_device_is_a_user_error(tmp_path, model_dir, capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    source = stack_file(tmp_path, shape=(20, 20), axes="YX")
    assert main(["predict", str(source), "-o", str(tmp_path / "o.tif"), "--model", str(model_dir),
                 "--device", "cuda"]) == 2
    assert "not available" in capsys.readouterr().err
    assert not (tmp_path / "o.tif").exists()


def test_object_options_reach_the_post_processing(tmp_path, test_data_dir):
    """--seed-height and --min-size override the default model's own post-processing: the
    CLI's labels equal the engine's with the same options, and differ from its defaults."""
    import tifffile

    from unet_studio.models.inference import predict_image
    from unet_studio.models.weights import load_model

    image = tifffile.imread(test_data_dir / "default_hoechst_f8_img.tif")
    source = write_stack(tmp_path / "hoechst.tif", image, axes="YX", kind="image")

    def predicted(*flags) -> np.ndarray:
        target = tmp_path / f"labels{len(list(tmp_path.iterdir()))}.tif"
        assert main(["predict", str(source), "-o", str(target), "--device", "cpu", *flags]) == 0
        with open_stack(target) as result:
            return result.to_numpy()

    default, split = predicted(), predicted("--seed-height", "4")
    net = load_model(_default_model_dir())
    expected = predict_image(net, image, axes="YX", device="cpu", postprocess={"seed_height": 4.0})
    np.testing.assert_array_equal(split, expected)
    assert default.max() > 0 and not np.array_equal(split, default)
    assert not predicted("--min-size", str(image.size + 1)).any()


def _default_model_dir():
    from unet_studio.app.model_library import bundled_models_dir

    return bundled_models_dir() / "default"


@pytest.mark.parametrize("flags", [("--seed-height", "0"), ("--min-size", "-3")])
def test_impossible_object_options_exit_2(tmp_path, model_dir, capsys, flags):
    source = stack_file(tmp_path, shape=(20, 20), axes="YX")
    assert main(["predict", str(source), "-o", str(tmp_path / "o.tif"), "--model",
                 str(model_dir), *flags]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and flags[0] in error[0]
    assert not (tmp_path / "o.tif").exists()


def test_an_existing_output_is_kept_unless_overwrite_is_asked_for(tmp_path, model_dir, capsys):
    source = stack_file(tmp_path, shape=(24, 28), axes="YX")
    corrected = write_stack(tmp_path / "labels.tif", np.full((24, 28), 7, np.uint16),
                            axes="YX", kind="labels")  # labels the user made by hand
    before = corrected.read_bytes()
    command = ["predict", str(source), "-o", str(corrected), "--model", str(model_dir),
               "--device", "cpu"]
    assert main(command) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and str(corrected) in error[0] and "--overwrite" in error[0]
    assert corrected.read_bytes() == before
    assert main([*command, "--overwrite"]) == 0
    with open_stack(corrected) as result:
        assert result.shape == (24, 28) and not (result.to_numpy() == 7).all()


def test_a_folder_output_refuses_before_writing_any_file(tmp_path, model_dir, capsys):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for index in range(2):
        stack_file(inputs, name=f"frame{index}.tif", shape=(20, 21), axes="YX", seed=index)
    out = tmp_path / "masks"
    out.mkdir()
    (out / "frame1_mask.tif").write_bytes(b"kept")
    assert main(["predict", str(inputs / "*.tif"), "-o", str(out), "--model", str(model_dir),
                 "--output-type", "mask", "--device", "cpu"]) == 2
    assert "frame1_mask.tif: already exists" in capsys.readouterr().err
    assert files_in(out) == ["frame1_mask.tif"] and (out / "frame1_mask.tif").read_bytes() == b"kept"


def _full_disk_after(monkeypatch, allowed: int) -> None:
    """The disk is full once ``allowed`` files have had their space reserved."""
    import errno
    import os

    calls = []

    def fallocate(fd, offset, length):
        calls.append(length)
        if len(calls) > allowed:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", fallocate, raising=False)


@pytest.mark.parametrize("name", ["labels.tif", "labels.zarr"])
def test_a_full_disk_for_the_output_is_one_line_and_leaves_nothing(tmp_path, model_dir, capsys,
                                                                    monkeypatch, name):
    """The streamed output's space (a Zarr's staging file) is taken before any tile runs: a
    full disk is an error naming where (not a crash when a memory-mapped page is first
    written)."""
    source = stack_file(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    _full_disk_after(monkeypatch, allowed=0)
    assert main(["predict", str(source), "-o", str(out / name), "--model",
                 str(model_dir), "--device", "cpu"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert error[-1].startswith("unet-studio: error: not enough disk space in ")
    assert f"the output {name}" in error[-1] and str(out) in error[-1]
    assert files_in(out) == []


def test_a_full_disk_for_the_working_files_is_one_line_naming_the_input(tmp_path, model_dir,
                                                                         capsys, monkeypatch):
    from unet_studio.models.scratch import RAM_LIMIT_ENV

    source = stack_file(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setenv(RAM_LIMIT_ENV, "0.001")  # every working array is a file
    _full_disk_after(monkeypatch, allowed=1)  # the output's space, then nothing
    assert main(["predict", str(source), "-o", str(out / "labels.tif"), "--model",
                 str(model_dir), "--device", "cpu"]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith(f"unet-studio: error: {source}: not enough disk space in ")
    assert "a working array" in error and "UNET_STUDIO_SCRATCH_DIR" in error
    assert files_in(out) == []


def test_a_disk_that_fills_while_writing_is_one_line_and_leaves_nothing(tmp_path, model_dir,
                                                                          capsys, monkeypatch):
    """A Zarr output's chunks are plain file writes: the disk filling up mid-run is one line,
    exit 2, no half-written output."""
    import errno

    from unet_studio.models import stack_run

    source = stack_file(tmp_path)
    out = tmp_path / "out"
    out.mkdir()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(out / "labels.zarr" / "0" / "c"))

    monkeypatch.setattr(stack_run, "copy_in_slabs", full)  # when the labels are written
    assert main(["predict", str(source), "-o", str(out / "labels.zarr"), "--model",
                 str(model_dir), "--device", "cpu"]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("unet-studio: error: ") and "the disk is full" in error
    assert files_in(out) == []


def test_a_time_series_keeps_ids_over_time_unless_told_not_to(tmp_path):
    """The default model on two real HeLa frames: the same nucleus has the same id in both
    frames of the output; with --no-time-links each frame is numbered 1..N."""
    from pathlib import Path

    import tifffile

    sample = Path(__file__).resolve().parents[2] / "resources" / "samples" / "hela_timelapse.tif"
    movie = tifffile.imread(sample)[:, :256, :256]
    source = write_stack(tmp_path / "movie.tif", movie, axes="TYX", kind="image")
    results = {}
    for name, extra in (("linked", []), ("apart", ["--no-time-links"])):
        target = tmp_path / f"{name}.tif"
        assert main(["predict", str(source), "-o", str(target), "--device", "cpu", *extra]) == 0
        with open_stack(target) as result:
            results[name] = result.to_numpy()
    linked, apart = results["linked"], results["apart"]
    np.testing.assert_array_equal(linked > 0, apart > 0)
    assert set(np.unique(apart[1])) == set(range(int(apart[1].max()) + 1))
    kept = set(np.unique(linked[0])) & set(np.unique(linked[1])) - {0}
    assert len(kept) >= 10  # nuclei found in both frames go on with their ids
    for label in kept:  # and they are the same nuclei: they overlap themselves
        first, second = linked[0] == label, linked[1] == label
        assert (first & second).sum() / (first | second).sum() > 0.25


def test_every_input_is_checked_against_the_model_before_any_output(tmp_path, model_dir, capsys):
    """A batch whose second image has two channels (no --channel) stops before the first is
    written; --channel 0 serves a batch mixing one- and two-channel images."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    stack_file(inputs, name="a.tif", shape=(20, 21), axes="YX")
    stack_file(inputs, name="b.tif", shape=(2, 20, 21), axes="CYX", seed=1)
    out = tmp_path / "out"
    run = ["predict", str(inputs / "a.tif"), str(inputs / "b.tif"), "-o", str(out),
           "--model", str(model_dir), "--device", "cpu"]
    assert main(run) == 2
    assert "b.tif" in capsys.readouterr().err and not out.exists()
    assert main([*run, "--channel", "0"]) == 0
    assert files_in(out) == ["a_labels.tif", "b_labels.tif"]
    assert main([*run, "--channel", "1", "--overwrite"]) == 2
    assert "a.tif: has one channel only" in capsys.readouterr().err


def test_an_output_named_like_another_kind_of_file_is_refused(tmp_path, model_dir, capsys):
    source = stack_file(tmp_path, shape=(20, 21), axes="YX")
    assert main(["predict", str(source), "-o", str(tmp_path / "x.png"), "--model", str(model_dir),
                 "--device", "cpu"]) == 2
    assert "x.png: results are written as .tif" in capsys.readouterr().err
    assert files_in(tmp_path) == ["nuclei.tif"]


def test_a_multi_series_tiff_says_which_image_it_segments(tmp_path, model_dir, capsys):
    import tifffile

    source = tmp_path / "two.tif"
    first, second = np.zeros((20, 21), np.uint16), np.full((24, 25), 500, np.uint16)
    with tifffile.TiffWriter(source) as tif:
        tif.write(first, metadata={"axes": "YX"})
        tif.write(second, metadata={"axes": "YX"})
    run = ["predict", str(source), "--model", str(model_dir), "--device", "cpu"]
    assert main([*run, "-o", str(tmp_path / "one.tif")]) == 0
    assert "holds 2 image series; segmenting the first (--series N" in capsys.readouterr().err
    assert main([*run, "-o", str(tmp_path / "two_out.tif"), "--series", "2"]) == 0
    assert "holds 2" not in capsys.readouterr().err
    with open_stack(tmp_path / "one.tif") as one, open_stack(tmp_path / "two_out.tif") as two:
        assert one.shape == (20, 21) and two.shape == (24, 25)
    assert main([*run, "-o", str(tmp_path / "three.tif"), "--series", "3"]) == 2
    assert "has 2 image series; there is no series 3" in capsys.readouterr().err


@pytest.mark.parametrize("edit,message", [
    ({"extra": {"postprocess": {"seed_height_fraction": -1}}}, "'seed_height_fraction' must be 0 or more"),
    ({"extra": {"postprocess": {"min_sise": 20}}}, "unknown post-processing option 'min_sise'"),
    ({"extra": {"postprocess": {"link_max_gap": 1.5}}}, "'link_max_gap' must be a whole number"),
    ({"pixel_size_um": ["abc", 0.5]}, "pixel_size_um must be one positive number per spatial axis"),
    ({"extra": None}, None),  # (null extras: none)
])
def test_a_hand_edited_model_config_is_checked_when_loaded(tmp_path, model_dir, capsys, edit, message):
    import json
    import shutil

    model = tmp_path / "edited"
    shutil.copytree(model_dir, model)
    config = json.loads((model / "config.json").read_text())
    config["task"].update(edit)
    (model / "config.json").write_text(json.dumps(config))
    source = stack_file(tmp_path, shape=(20, 21), axes="YX")
    code = main(["predict", str(source), "-o", str(tmp_path / "o.tif"), "--model", str(model),
                 "--device", "cpu"])
    if message is None:
        assert code == 0
        return
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and message in lines[0] and str(model) in lines[0]
    assert not (tmp_path / "o.tif").exists()


def test_overwrite_replaces_files_only_never_a_pipe_a_link_or_an_input(tmp_path, model_dir, capsys):
    import os

    source = stack_file(tmp_path, shape=(20, 21), axes="YX")
    run = ["predict", str(source), "--model", str(model_dir), "--device", "cpu", "--overwrite"]
    pipe = tmp_path / "pipe.tif"
    os.mkfifo(pipe)
    assert main([*run, "-o", str(pipe)]) == 2
    assert "pipe.tif: is not a regular file" in capsys.readouterr().err
    link = tmp_path / "link.tif"
    link.symlink_to(source)
    assert main([*run, "-o", str(link)]) == 2
    assert "link.tif: is a symbolic link" in capsys.readouterr().err
    assert link.is_symlink() and pipe.is_fifo() and open_stack(source).shape == (20, 21)


def test_a_time_series_without_a_frame_interval_keeps_its_voxel_size(tmp_path, model_dir, monkeypatch):
    """TZYX calibrated in Z, Y and X but with no time interval (every folder of ZYX files):
    the watershed gets the voxel size all the same, as for the ZYX stack alone."""
    from unet_studio.models import pipeline

    seen = []
    real = pipeline.iter_predict_image

    def spy(*args, scale=None, **kwargs):
        seen.append(scale)
        return real(*args, scale=scale, **kwargs)

    monkeypatch.setattr(pipeline, "iter_predict_image", spy)
    import tifffile

    source = tmp_path / "series.tif"  # ImageJ: pixel size and Z spacing, no frame interval
    pixels = (np.random.default_rng(0).random((2, 3, 20, 21)) * 4000).astype(np.uint16)
    tifffile.imwrite(source, pixels, imagej=True, resolution=(2.0, 2.0),
                     metadata={"axes": "TZYX", "spacing": 2.0, "unit": "um"})
    with open_stack(source) as stack:
        assert stack.units["T"] == "pixel" and not stack.scale_known and stack.spatial_scale_known
    assert main(["predict", str(source), "-o", str(tmp_path / "o.tif"), "--model", str(model_dir),
                 "--device", "cpu"]) == 0
    assert seen[-1] is not None and seen[-1]["Z"] == pytest.approx(2.0)
    assert seen[-1]["X"] == pytest.approx(0.5)


@pytest.mark.parametrize("output_type", ["labels", "probabilities"])
def test_zarr_in_and_out_give_the_pixels_of_tiff_in_and_out(tmp_path, model_dir, output_type):
    """An OME-Zarr input in 16-plane chunks (read through the chunk cache, tiles of 16 px)
    and a .zarr output (staged, then compressed chunk by chunk) hold exactly the pixels of
    the TIFF runs, with the same axes and scale."""
    source = stack_file(tmp_path, shape=(20, 40, 52))
    with open_stack(source) as stack:
        deep = write_stack(tmp_path / "deep.zarr", stack.data, axes="ZYX", scale=stack.scale,
                           kind="image")
    runs = {}
    for name, image, suffix in (("tiff", source, ".tif"), ("zarr_in", deep, ".tif"),
                                ("zarr_out", source, ".zarr"), ("zarr_both", deep, ".zarr")):
        target = tmp_path / f"{name}{suffix}"
        assert main(["predict", str(image), "-o", str(target), "--model", str(model_dir),
                     "--tile", "16", "--device", "cpu", "--output-type", output_type]) == 0
        with open_stack(target) as result:
            runs[name] = (result.axes, result.scale, result.dtype, result.to_numpy())
    assert runs["tiff"][3].any()
    for name in ("zarr_in", "zarr_out", "zarr_both"):
        axes, scale, dtype, pixels = runs[name]
        assert axes == runs["tiff"][0]
        # (labels are uint16 in a .tif, for ImageJ, and int32 in a Zarr: the same ids)
        zarr_labels = output_type == "labels" and name != "zarr_in"
        assert dtype == (np.dtype(np.int32) if zarr_labels else runs["tiff"][2])
        assert scale == pytest.approx(runs["tiff"][1])
        np.testing.assert_array_equal(pixels, runs["tiff"][3])


def test_max_gap_reaches_the_linker_of_a_time_series(tmp_path, model_dir, monkeypatch, capsys):
    """--max-gap N: the time series' linker bridges gaps of up to N time points (0: none);
    without it, ``time_links.MAX_GAP``; a negative N is refused."""
    from unet_studio.models import stack_run, time_links

    made = []

    class Recording(time_links.TimeLinker):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self.max_gap)

    monkeypatch.setattr(stack_run, "TimeLinker", Recording)
    source = stack_file(tmp_path, name="movie.tif", shape=(3, 40, 52), axes="TYX")
    for extra, expected in (([], time_links.MAX_GAP), (["--max-gap", "0"], 0),
                            (["--max-gap", "3"], 3)):  # fmt: skip
        target = tmp_path / f"labels{len(made)}.tif"
        assert main(["predict", str(source), "-o", str(target), "--model", str(model_dir),
                     "--device", "cpu", *extra]) == 0  # fmt: skip
        assert made[-1] == expected
    assert main(["predict", str(source), "-o", str(tmp_path / "no.tif"), "--model",
                 str(model_dir), "--device", "cpu", "--max-gap", "-1"]) == 2  # fmt: skip
    assert "--max-gap must be 0 or more" in capsys.readouterr().err
