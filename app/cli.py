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
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from unet_studio import __version__
from unet_studio.app.errors import UserError
from unet_studio.models.files import TEMP_PREFIX

# Order is the order in --help. "gui" is also what a bare ``unet-studio`` runs.
COMMAND_NAMES = ("gui", "predict", "info", "finetune", "evaluate", "measure", "export-ctc")

VERBOSE_HELP = "log progress details"

log = logging.getLogger(__name__)


def _load_command_modules() -> dict:
    modules = {}
    for name in COMMAND_NAMES:
        module = f"unet_studio.app.commands.{name.replace('-', '_')}"  # (export-ctc)
        try:
            modules[name] = importlib.import_module(module)
        except ModuleNotFoundError as error:
            # A command whose module is not written yet is simply not offered.
            if error.name != module:
                raise
    return modules


class OneLineParser(argparse.ArgumentParser):
    """A mistyped option or command is one line and exit code 2, as every other mistake
    (argparse printed its usage block first, and named "unet-studio predict: error")."""

    def error(self, message: str):
        self.exit(2, f"unet-studio: error: {message} (see {self.prog} --help)\n")


def build_parser() -> tuple[argparse.ArgumentParser, dict]:
    parser = OneLineParser(
        prog="unet-studio",
        description="U-Net segmentation, correction and fine-tuning for microscopy stacks.",
    )
    parser.add_argument("--version", action="version", version=f"unet-studio {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    # -v after the command too (`predict a.tif -o b.tif -v`): each command accepts it, and
    # only when given (SUPPRESS), so that it does not put back False over a -v given before.
    common = OneLineParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help=VERBOSE_HELP)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = _load_command_modules()
    for name, module in modules.items():
        sub = subparsers.add_parser(name, help=module.HELP, description=module.HELP,
                                    parents=[common])
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
        from unet_studio.app.environment import check_environment

        check_environment()
        # (not the GUI: Qt's event loop runs Python only on events, so a raising handler
        # would leave the window up; the default action, exit, is right there)
        with _terminate_as_interrupt(command != "gui"):
            code = int(modules[command].run(args) or 0)
        sys.stdout.flush()  # (here, so that a reader gone away is caught below)
        return code
    except BrokenPipeError:
        # The reader of our output went away (`unet-studio info *.tif | head -3`): stop
        # quietly, as a command ended by SIGPIPE does, instead of a traceback.
        _discard_stdout()
        return 128 + getattr(signal, "SIGPIPE", 13)
    except UserError as error:
        print(f"unet-studio: error: {user_error_message(error)}", file=sys.stderr)
        return 2
    except OSError as error:
        message = os_error_message(error)
        if message is None:
            raise
        print(f"unet-studio: error: {message}", file=sys.stderr)
        return 2
    except MemoryError as error:  # (numpy's names the array it could not allocate)
        print(f"unet-studio: error: not enough memory for this {command} ({error}); free "
              "memory, or give it a smaller image", file=sys.stderr)
        return 2
    except Terminated:
        print("unet-studio: terminated", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print("unet-studio: interrupted", file=sys.stderr)
        return 130


def _discard_stdout() -> None:
    """Point stdout at the null device, so that the interpreter's last flush at exit does
    not fail on the closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # (no file descriptor: a test's captured stdout)
        pass


class Terminated(KeyboardInterrupt):
    """SIGTERM (``timeout``, SLURM, ``docker stop``) raised as an exception that unwinds as
    Ctrl-C does, so that the same clean-up runs: a half-written output's temporary file is
    removed, a training run keeps its checkpoint."""


@contextmanager
def _terminate_as_interrupt(enabled: bool = True) -> Iterator[None]:
    """Turn SIGTERM into :class:`Terminated` while the block runs (main thread only: Python
    sets signal handlers nowhere else); the previous handler is back afterwards."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        # Further SIGTERMs are ignored: one arriving during the clean-up would cut it short
        # and leave the temporary file behind (SIGKILL still ends the process).
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:  # (None: a handler set outside Python, which cannot be put back; use the default)
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


# Files the commands write to on the way to an output; an error on one is about its folder.
_WORKING_FILE = re.compile(rf"^(\..+\.[0-9a-f]+\.part|{re.escape(TEMP_PREFIX)}.*)$")
SCRATCH_PREFIX = "unet-studio-scratch-"  # models.scratch's working arrays


def os_error_message(error: OSError) -> str | None:
    """One line (path, then what is wrong) for the OSErrors that are the user's situation,
    not a bug: a full disk, a folder that cannot be written, a folder where a file belongs
    or the other way round. None for the others (a traceback: a bug to report)."""
    code = error.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        where = f"{error.filename}: " if error.filename else ""  # (a zarr chunk, a TIFF)
        return (f"{where}the disk is full ({error.strerror}); nothing was kept of the "
                "unfinished output")
    if code == errno.EISDIR:  # os.replace(temp, target): the target is the folder
        return f"{error.filename2 or error.filename}: is a folder, not a file; give a file name"
    if code == errno.ENOTDIR and error.filename:
        return f"{_file_in_the_way(Path(error.filename))}: is a file, not a folder"
    if code in (errno.EACCES, errno.EPERM, errno.EROFS) and error.filename:
        return _cannot_write(Path(error.filename), error)
    return None


def user_error_message(error: UserError) -> str:
    """The line for a UserError: its message, and for an output that could not be written
    (a WriteError: "cannot write t.csv in /x: Read-only file system") what to do about it,
    as the CLI said before WriteError named the output (its folder's message ended so)."""
    if not isinstance(error, OSError):  # (WriteError is both; imported only when it is one)
        return str(error)
    from unet_studio.app.atomic import WriteError

    if not isinstance(error, WriteError):
        return str(error)
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return (f"{error}; nothing was kept of the unfinished output: free some space, or "
                "choose another output")
    return f"{error}; choose another output"


def _cannot_write(path: Path, error: OSError) -> str:
    what = (error.strerror or os.strerror(error.errno)).lower()
    if path.name.startswith(SCRATCH_PREFIX):
        return (f"{path.parent}: cannot write working files in this folder ({what}); set "
                "UNET_STUDIO_SCRATCH_DIR to a writable folder")
    if _WORKING_FILE.match(path.name):  # the user named the output, not this file
        return f"{path.parent}: cannot write in this folder ({what}); choose another output"
    return f"{path}: {what}"


def _file_in_the_way(path: Path) -> Path:
    """The part of ``path`` that is a file where a folder is needed (``path`` if none is)."""
    for part in reversed(path.parents):
        if part.exists() and not part.is_dir():
            return part
    return path


if __name__ == "__main__":
    raise SystemExit(main())
