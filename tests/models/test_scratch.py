"""Working arrays in temporary files: their disk space taken when made (a full disk is a
clear error, not a SIGBUS later), in a folder on disk rather than in RAM."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

from unet_studio.models import scratch


def test_a_working_file_has_its_disk_space_from_the_start(monkeypatch):
    handles = []
    made = tempfile.TemporaryFile
    monkeypatch.setattr(tempfile, "TemporaryFile", lambda **kw: handles.append(made(**kw)) or handles[-1])
    monkeypatch.setenv(scratch.RAM_LIMIT_ENV, "1")
    array = scratch.scratch_zeros((8, 512, 512), np.uint8)  # 2 MiB
    assert isinstance(array, np.memmap) and not array.any()
    allocated = os.fstat(handles[0].fileno()).st_blocks * 512
    assert allocated >= array.nbytes  # reserved, not a sparse file


def test_a_full_disk_is_an_error_saying_where_and_what_to_do(monkeypatch, tmp_path):
    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full, raising=False)
    monkeypatch.setenv(scratch.RAM_LIMIT_ENV, "1")
    monkeypatch.setenv(scratch.SCRATCH_DIR_ENV, str(tmp_path))
    with pytest.raises(scratch.DiskSpaceError) as caught:
        scratch.scratch_zeros((8, 512, 512), np.uint8)
    message = str(caught.value.strerror)
    assert message.startswith(f"not enough disk space in {tmp_path} for a working array")
    assert "(2.0 MiB, " in message  # (the array's size readable: "0.0 GiB" said nothing)
    assert " free)" in message and scratch.SCRATCH_DIR_ENV in message
    assert list(tmp_path.iterdir()) == []  # nothing left behind


def test_without_fallocate_the_free_space_is_checked(monkeypatch, tmp_path):
    monkeypatch.delattr(os, "posix_fallocate", raising=False)
    with open(tmp_path / "f", "wb") as handle:
        scratch.reserve_space(handle.fileno(), 1024, tmp_path, "a test")
        with pytest.raises(scratch.DiskSpaceError, match="a test"):
            scratch.reserve_space(handle.fileno(), 1 << 62, tmp_path, "a test")


MOUNTS = """\
/dev/vda / ext4 rw,relatime 0 0
tmpfs /tmp tmpfs rw,nosuid,nodev 0 0
/dev/vdb /tmp/big\\040disk xfs rw 0 0
proc /proc proc rw 0 0
"""


def test_the_file_system_of_a_folder_comes_from_the_mount_table():
    assert scratch.file_system_type("/tmp/x", MOUNTS) == "tmpfs"
    assert scratch.file_system_type("/tmp/big disk/y", MOUNTS) == "xfs"
    assert scratch.file_system_type("/var/tmp", MOUNTS) == "ext4"
    assert scratch.file_system_type("/tmpother", MOUNTS) == "ext4"


@pytest.mark.skipif(scratch.file_system_type("/dev/shm") != "tmpfs"
                    or scratch.file_system_type(scratch.DISK_TEMP_FOLDER) in (None, "tmpfs", "ramfs")
                    or not os.access(scratch.DISK_TEMP_FOLDER, os.W_OK),
                    reason="needs /dev/shm in RAM and a writable /var/tmp on disk")
def test_a_temporary_folder_in_ram_is_passed_over_for_one_on_disk(monkeypatch, tmp_path):
    monkeypatch.delenv(scratch.SCRATCH_DIR_ENV, raising=False)
    monkeypatch.setattr(tempfile, "tempdir", "/dev/shm")
    assert scratch.scratch_folder() == Path(scratch.DISK_TEMP_FOLDER)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert scratch.scratch_folder() == tmp_path  # on disk: used as it is
    monkeypatch.setenv(scratch.SCRATCH_DIR_ENV, str(tmp_path / "missing"))
    with pytest.raises(ValueError, match=scratch.SCRATCH_DIR_ENV):
        scratch.scratch_folder()
