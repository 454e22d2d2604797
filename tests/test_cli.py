"""The command line entry point exists and answers --help and --version."""

import subprocess
import sys

from unet_studio import __version__


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "unet_studio", *args], capture_output=True, text=True, timeout=120
    )


def test_version():
    result = _run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"unet-studio {__version__}"


def test_help_lists_commands():
    result = _run("--help")
    assert result.returncode == 0
    for command in ("gui", "predict", "info", "finetune", "evaluate", "measure"):
        assert command in result.stdout, command
