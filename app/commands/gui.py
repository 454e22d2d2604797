"""``unet-studio gui [FILES]``: the napari window with the unet-studio panels."""

from __future__ import annotations

import argparse

HELP = "open the app: napari with the Segment, Correct, Train and Models panels (the default)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", metavar="FILE",
                        help="images to open (TIFF, OME-TIFF, OME-Zarr, a folder of TIFFs; "
                             "PNG and JPEG with napari's own reader)")
    parser.add_argument(
        "--project", metavar="DIR",
        help="open this project folder (its corrections are restored on the opened image)",
    )
    parser.add_argument("--series", type=int, default=None, metavar="N",
                        help="which image of a multi-series TIFF or of a bioformats2raw OME-Zarr "
                             "to open, counting from 1 (1 = the first, as 'info' and 'predict' "
                             "count)")
    sample = parser.add_mutually_exclusive_group()
    sample.add_argument(
        "--sample", dest="load_sample", action="store_const", const=True, default=None,
        help="also open the bundled 3D nuclei sample (by default only on the first launch)",
    )
    sample.add_argument(
        "--no-sample", dest="load_sample", action="store_const", const=False,
        help="never open the sample stack",
    )


def run(args: argparse.Namespace) -> int:
    from unet_studio.app.launcher import main

    series = None if args.series is None else _checked_series(args.files, args.series)
    return main(args.files, load_sample=args.load_sample, project=args.project, series=series)


def _checked_series(files: list[str], series: int) -> int:
    """``--series N`` (from 1) as the reader's index (from 0), once every file is known to
    hold that image: a series that is not there is one line and exit 2 here, before a
    window opens (inside napari it would be a notification over an empty window)."""
    from pathlib import Path

    from unet_studio.app.errors import UserError
    from unet_studio.app.io import open_stack

    if series < 1:
        raise UserError(f"--series counts from 1 (the first image of a file), got {series}")
    if not files:
        raise UserError("--series picks an image of the FILE opened; name the file")
    for name in files:
        if Path(name).exists():  # (a missing one: the launcher names it)
            open_stack(name, series=series - 1).close()  # (metadata only: no pixels read)
    return series - 1
