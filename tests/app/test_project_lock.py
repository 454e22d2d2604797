"""The project lock against process ids given to a later process: a lock is live while the very
process that wrote it runs, not any process that now carries its id. Real locks written by
real child processes, real project folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from unet_studio.app.project import Project
from unet_studio.app.project_lock import LOCK_FILE, lock_holder


@pytest.fixture
def folder(tmp_path):
    """A project folder nobody holds."""
    Project.create(tmp_path / "p", autosave_delay=0.0).close()
    assert not (tmp_path / "p" / LOCK_FILE).exists()
    return tmp_path / "p"


@pytest.fixture
def running():
    """Start child processes that run until the test ends."""
    children = []

    def start(*command: str) -> subprocess.Popen:
        child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        children.append(child)
        return child

    yield start
    for child in children:
        child.kill()
        child.wait()


def _opens_writable(folder) -> bool:
    project = Project.open(folder, autosave_delay=0.0)
    try:
        return project.read_only is None and project.sharing_problem() is None
    finally:
        project.close()


def test_a_lock_whose_process_id_now_names_another_process_is_stale(folder, running, take_lock_script):
    """The writer of the lock is gone and its id was given to an unrelated process (after a
    reboot or a long uptime): the project opens writable, not read-only for no reason."""
    subprocess.run([sys.executable, "-c", take_lock_script, str(folder), "exit"], check=True,
                   capture_output=True)
    lock = folder / LOCK_FILE
    info = json.loads(lock.read_text())
    unrelated = running("sleep", "30")  # (alive, started after the lock's writer)
    lock.write_text(json.dumps({**info, "pid": unrelated.pid}))
    assert lock_holder(folder) is None
    assert _opens_writable(folder)
    assert not lock.exists()  # (taken over, then released on close)
    lock.write_text(json.dumps({**info, "pid": os.getpid()}))  # (this process: alive too)
    assert lock_holder(folder) is None


def test_a_lock_of_a_running_writer_stays_live_in_either_format(folder, running, take_lock_script):
    """The very process that wrote the lock still runs: read-only here, naming that process
    and the lock file; a lock of an older version (process id only) of it too."""
    writer = running(sys.executable, "-c", take_lock_script, str(folder), "stay")
    assert writer.stdout.readline().strip() == "taken"
    lock = folder / LOCK_FILE
    for info in (json.loads(lock.read_text()),
                 {"pid": writer.pid, "host": json.loads(lock.read_text())["host"]}):
        lock.write_text(json.dumps(info))
        project = Project.open(folder, autosave_delay=0.0)
        problem = project.sharing_problem()
        project.close()
        assert project.read_only == f"process {writer.pid}"
        assert f"process {writer.pid}" in problem and str(lock) in problem
        assert lock.exists()  # (the reader leaves the writer's lock alone)
