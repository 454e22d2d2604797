"""``unet-studio gui [FILES]``: the napari window with the unet-studio panels."""

from __future__ import annotations

import argparse

HELP = "open the app: napari with the Segment, Correct, Train and Models panels (the default)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", metavar="FILE",
                        help="stacks to open (TIFF, OME-TIFF, OME-Zarr; a PNG or JPEG opens "
                             "from the window's File > Open)")
    parser.add_argument(
        "--project", metavar="DIR",
        help="open this project folder (its corrections are restored on the opened image)",
    )
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

    refuse_raster_files(args.files)
    return main(args.files, load_sample=args.load_sample, project=args.project)


def refuse_raster_files(files: list[str]) -> None:
    """One line, before the window opens, for a PNG or JPEG: the app's reader takes TIFF and
    Zarr names only, and napari would answer with a traceback ("not a compatible reader")."""
    from pathlib import Path

    from unet_studio.app.errors import InputFileError
    from unet_studio.app.io.raster import RASTER_SUFFIXES

    for name in files:
        if Path(name).suffix.lower() in RASTER_SUFFIXES:
            raise InputFileError(name, "the app opens TIFF, OME-TIFF and OME-Zarr files; open "
                                       "a PNG or JPEG from its File > Open menu, or segment it "
                                       "with 'unet-studio predict'")
