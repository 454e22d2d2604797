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

    return main(args.files, load_sample=args.load_sample, project=args.project)
