"""The background warm-up of the first viewer (pandas, skimage, torch imports): it never
holds the window up, and quitting while it imports prints nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# Quits as soon as the warm-up thread is inside ``import torch``, while other exit work (a
# project's last save, here a sleep registered before it) takes a while: the thread runs on
# meanwhile, and the interpreter used to tear torch down under it.
QUIT_DURING_IMPORT = textwrap.dedent("""
    import atexit, sys, time
    from unet_studio.plugins import widgets

    atexit.register(time.sleep, {exit_work_s})
    started = time.perf_counter()
    widgets._warm_up_imports()
    print(f"returned after {{time.perf_counter() - started:.3f}} s")
    while "torch" not in sys.modules:
        time.sleep(0.005)
""")


def _quit_during_import(tmp_path, exit_work_s: float) -> subprocess.CompletedProcess:
    script = tmp_path / "quit_during_warm_up.py"
    script.write_text(QUIT_DURING_IMPORT.format(exit_work_s=exit_work_s))
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=180)


@pytest.mark.slow
def test_quitting_while_the_warm_up_imports_torch_prints_nothing(tmp_path):
    done = _quit_during_import(tmp_path, exit_work_s=3.0)
    assert done.returncode == 0
    assert done.stderr == ""  # no "Exception in thread", no "Exception ignored in"
    seconds = float(done.stdout.split()[2])
    assert seconds < 0.1  # the window is never held up by it
