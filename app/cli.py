"""The ``unet-studio`` command: a thin dispatcher over ``app/commands/<name>.py``.

Each command module defines ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``. Command modules import heavy packages (torch, napari) inside ``run`` so
that ``unet-studio --help`` stays instant.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import sys
from collections.abc import Sequence

from unet_studio import __version__
from unet_studio.app.errors import UserError

# Order is the order in --help. "gui" is also what a bare ``unet-studio`` runs.
COMMAND_NAMES = ("gui", "predict", "info", "finetune", "evaluate", "measure")

log = logging.getLogger(__name__)


def _load_command_modules() -> dict:
    modules = {}
    for name in COMMAND_NAMES:
        try:
            modules[name] = importlib.import_module(f"unet_studio.app.commands.{name}")
        except ModuleNotFoundError as error:
            # A command whose module is not written yet is simply not offered.
            if error.name != f"unet_studio.app.commands.{name}":
                raise
    return modules


def build_parser() -> tuple[argparse.ArgumentParser, dict]:
    parser = argparse.ArgumentParser(
        prog="unet-studio",
        description="U-Net segmentation, correction and fine-tuning for microscopy stacks.",
    )
    parser.add_argument("--version", action="version", version=f"unet-studio {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = _load_command_modules()
    for name, module in modules.items():
        sub = subparsers.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
    return parser, modules


def main(argv: Sequence[str] | None = None) -> int:
    parser, modules = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    command = args.command or "gui"
    if command not in modules:
        parser.print_help()
        return 0
    if args.command is None:
        args = parser.parse_args([command, *(argv or [])])
    try:
        return int(modules[command].run(args) or 0)
    except UserError as error:
        print(f"unet-studio: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        if error.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        where = f"{error.filename}: " if error.filename else ""  # (a zarr chunk, a TIFF)
        print(f"unet-studio: error: {where}the disk is full ({error.strerror}); nothing was "
              "kept of the unfinished output", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("unet-studio: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
