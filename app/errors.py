"""Errors that reach the user as one clear line (CLI) or a notification (GUI)."""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """A problem with what the user asked for or supplied, not a bug.

    The CLI prints ``unet-studio: error: <message>`` and exits with code 2; the GUI shows the
    message as a notification. The message must say what is wrong and, where it helps, what
    to do instead.
    """


class InputFileError(UserError):
    """A file that cannot be used: names the file and the problem."""

    def __init__(self, path: str | Path, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
