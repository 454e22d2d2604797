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


def test_a_mistyped_option_or_command_is_one_line_and_exit_2(capsys):
    """argparse printed its usage block, then "unet-studio predict: error: ...": not the
    one line every other mistake is, as the README says."""
    import pytest

    from unet_studio.app.cli import main

    for argv, said in ((["predict", "a.tif", "-o", "b.tif", "--output-type", "foo"],
                        "argument --output-type: invalid choice: 'foo'"),
                       (["evaluate", "a.tif"], "the following arguments are required: GT"),
                       (["bogus"], "argument COMMAND: invalid choice: 'bogus'")):  # fmt: skip
        with pytest.raises(SystemExit) as stopped:
            main(argv)
        err = capsys.readouterr().err
        assert stopped.value.code == 2 and err.count("\n") == 1, err
        assert err.startswith(f"unet-studio: error: {said}") and "--help)" in err
