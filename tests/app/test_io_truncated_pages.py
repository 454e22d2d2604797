"""A multi-page TIFF cut between or inside pages (an interrupted copy): one clear line that
names the file and says how many of its pages it still holds, from the library and the CLI
(exit code 2, nothing written). napari's reader: tests/plugins/test_reader_truncated.py."""

from __future__ import annotations

import pytest
import tifffile

from unet_studio.app.cli import main
from unet_studio.app.errors import InputFileError
from unet_studio.app.io import open_stack


@pytest.fixture
def hela_pages(tmp_path, test_data_dir) -> tuple[bytes, list[int], list[int]]:
    """(bytes, IFD offsets, pixel data ends) of the HeLa crop written as 3 pages (TYX, zlib),
    the layout of the full data set."""
    path = tmp_path / "intact.tif"
    tifffile.imwrite(path, tifffile.imread(test_data_dir / "io_hela_tyx.tif"), photometric="minisblack",
                     compression="zlib", metadata={"axes": "TYX"})
    with tifffile.TiffFile(path) as tif:
        ifds = [page.offset for page in tif.pages]
        ends = [max(o + n for o, n in zip(page.dataoffsets, page.databytecounts)) for page in tif.pages]
    assert len(ifds) == 3
    content = path.read_bytes()
    path.unlink()
    return content, ifds, ends


def _cut(tmp_path, content: bytes, size: int):
    path = tmp_path / "cut.tif"
    path.write_bytes(content[:size])
    return path


def _open_error(path) -> str:
    with pytest.raises(InputFileError) as caught:
        with open_stack(path) as stack:
            stack.to_numpy()
    return str(caught.value)


def test_cut_between_pages_says_how_many_pages_remain(tmp_path, hela_pages):
    content, ifds, _ = hela_pages
    cut = _cut(tmp_path, content, ifds[2])  # pages 0 and 1 whole, page 2's header gone
    assert _open_error(cut) == f"{cut}: is truncated: it holds 2 of its 3 pages"


def test_a_page_cut_short_is_not_counted(tmp_path, hela_pages):
    content, ifds, ends = hela_pages
    inside_pixels = _cut(tmp_path, content, (ifds[1] + ends[1]) // 2)
    assert _open_error(inside_pixels) == f"{inside_pixels}: is truncated: it holds 1 of its 3 pages"


def test_a_page_header_cut_short_is_said_in_words(tmp_path, hela_pages):
    content, ifds, _ = hela_pages
    inside_tags = _cut(tmp_path, content, ifds[2] + 20)  # tifffile stops while finding the series
    assert _open_error(inside_tags) == f"{inside_tags}: is truncated or corrupt: a page header is cut short"


@pytest.mark.parametrize("command", ["info", "measure", "predict"])
def test_cli_says_one_line_exits_2_and_writes_nothing(tmp_path, hela_pages, capsys, command):
    content, ifds, _ = hela_pages
    cut = _cut(tmp_path, content, ifds[2])
    output = ["-o", str(tmp_path / ("table.csv" if command == "measure" else "labels.tif"))]
    assert main([command, str(cut), *(output if command != "info" else [])]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"unet-studio: error: {cut}: is truncated: it holds 2 of its 3 pages\n"
    assert [p.name for p in tmp_path.iterdir()] == ["cut.tif"]
