"""What the CLI reads and how it says so: PNG/JPEG in the help and read by content, -v
anywhere on the line."""

from __future__ import annotations

import logging

import numpy as np

from unet_studio.app.cli import build_parser, main


def _command_help(command: str) -> str:
    parser, _ = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    return " ".join(subparsers.choices[command].format_help().split())


def test_predict_and_info_help_name_png_and_jpeg_inputs():
    for command in ("predict", "info"):
        text = _command_help(command)
        assert "PNG" in text and "JPEG" in text, text
    assert "counting from 0" in _command_help("predict")
    assert "counting from 1" in _command_help("predict")


def test_a_png_named_tif_is_read_as_the_png_it_is(tmp_path, capsys):
    import imageio.v3 as iio

    grey = (np.random.default_rng(0).random((30, 40)) * 255).astype(np.uint8)
    renamed = tmp_path / "photo.tif"
    iio.imwrite(renamed, grey, extension=".png")
    assert main(["info", str(renamed)]) == 0
    out = capsys.readouterr().out
    assert "format:       png" in out and "shape:        30 x 40" in out


def test_verbose_is_accepted_after_the_command_too(tmp_path, capsys, monkeypatch):
    from unet_studio.app.io import write_stack

    calls = []
    monkeypatch.setattr(logging, "basicConfig", lambda **kwargs: calls.append(kwargs["level"]))
    image = write_stack(tmp_path / "x.tif", np.zeros((8, 8), np.uint16), axes="YX", kind="image")
    for argv in (["-v", "info", str(image)], ["info", str(image), "-v"],
                 ["info", "--verbose", str(image)], ["info", str(image)]):
        assert main(argv) == 0
    assert calls == [logging.INFO, logging.INFO, logging.INFO, logging.WARNING]


def test_gui_hands_a_png_to_the_launcher(tmp_path, monkeypatch):
    """`unet-studio gui snapshot.png` reaches the launcher, which opens it with napari's own
    reader (tests/plugins/test_launcher.py); a check before it refused PNG and JPEG."""
    from unet_studio.app import launcher
    from unet_studio.app.cli import main

    opened = []
    monkeypatch.setattr(launcher, "main", lambda files, **_: opened.append(files) or 0)
    png = tmp_path / "snapshot.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n")
    assert main(["gui", str(png)]) == 0
    assert opened == [[str(png)]]
