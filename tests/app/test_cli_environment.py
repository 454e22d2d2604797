"""What surrounds every command: UNET_STUDIO_* variables with values that cannot work are
one line and exit code 2 before any work, and a reader of stdout that goes away
(`unet-studio info *.tif | head -1`) ends the command quietly."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from unet_studio.app.cli import main
from unet_studio.app.io import write_stack


@pytest.mark.parametrize("variable, value, message", [
    ("UNET_STUDIO_CHUNK_CACHE_MB", "abc", "UNET_STUDIO_CHUNK_CACHE_MB must be a number of MiB"),
    ("UNET_STUDIO_CHUNK_CACHE_MB", "-5", "UNET_STUDIO_CHUNK_CACHE_MB must be 0 or more MiB"),
    ("UNET_STUDIO_SCRATCH_RAM_MB", "1GB", "UNET_STUDIO_SCRATCH_RAM_MB must be a number of MiB"),
    ("UNET_STUDIO_LABEL_THREADS", "two", "UNET_STUDIO_LABEL_THREADS must be a whole number"),
])
def test_a_bad_environment_variable_is_one_line_naming_it(tmp_path, monkeypatch, capsys,
                                                           variable, value, message):
    # An OME-Zarr input: opening it reads the chunk cache's size from the environment.
    stack = write_stack(tmp_path / "nuclei.zarr", np.zeros((2, 16, 16), np.uint16), axes="ZYX",
                        kind="image")
    monkeypatch.setenv(variable, value)
    assert main(["info", str(stack)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"unet-studio: error: {message}"), err
    assert err.count("\n") == 1 and str(stack) not in err  # (the variable, not the file)


def test_a_scratch_folder_that_does_not_exist_is_refused_before_any_work(tmp_path, monkeypatch,
                                                                           capsys):
    monkeypatch.setenv("UNET_STUDIO_SCRATCH_DIR", str(tmp_path / "missing"))
    labels = write_stack(tmp_path / "labels.tif", np.ones((8, 8), np.uint16), axes="YX",
                         kind="labels")
    assert main(["measure", str(labels), "-o", str(tmp_path / "objects.csv")]) == 2
    assert "UNET_STUDIO_SCRATCH_DIR must name an existing folder" in capsys.readouterr().err
    assert not (tmp_path / "objects.csv").exists()


def test_output_piped_into_a_reader_that_stops_early_ends_quietly(tmp_path):
    stack = write_stack(tmp_path / "nuclei.tif", np.zeros((2, 16, 16), np.uint16), axes="ZYX",
                        kind="image")
    command = [sys.executable, "-m", "unet_studio", "info", *[str(stack)] * 50]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # (the reader is gone before the first line is written)
    _, err = process.communicate(timeout=120)
    assert err.decode() == ""
    assert process.returncode == 141  # (128 + SIGPIPE, as a shell reports `head` ending it)
