"""Outputs the CLI must not write over (a pipe, a link, a folder, its own input) and output
folders it cannot write: exit 2 with one line naming the path, nothing replaced or left."""

from __future__ import annotations

import errno
import os
import signal
import stat

import numpy as np
import pytest
import tifffile

from unet_studio.app import atomic
from unet_studio.app.cli import main, os_error_message
from unet_studio.app.errors import InputFileError


@pytest.fixture
def labels(tmp_path):
    data = np.zeros((20, 24), np.uint16)
    data[2:6, 3:9] = 1
    data[10:18, 12:20] = 5
    tifffile.imwrite(tmp_path / "labels.tif", data)
    return tmp_path / "labels.tif"


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("unet-studio: error: "), err
    return err[0]


def test_measure_refuses_to_replace_a_named_pipe(tmp_path, labels, capsys):
    pipe = tmp_path / "table.csv"
    os.mkfifo(pipe)
    assert main(["measure", str(labels), "-o", str(pipe), "--overwrite"]) == 2
    assert str(pipe) in one_error_line(capsys)
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.tif", "table.csv"]


def test_measure_refuses_to_replace_a_link_and_keeps_its_target(tmp_path, labels, capsys):
    target = tmp_path / "mine.csv"
    target.write_text("my notes\n")
    link = tmp_path / "table.csv"
    link.symlink_to(target)
    assert main(["measure", str(labels), "-o", str(link), "--overwrite"]) == 2
    assert "symbolic link" in one_error_line(capsys)
    assert link.is_symlink() and target.read_text() == "my notes\n"


def test_measure_refuses_to_write_over_its_own_input(tmp_path, labels, capsys):
    before = labels.read_bytes()
    assert main(["measure", str(labels), "-o", str(labels), "--overwrite"]) == 2
    assert one_error_line(capsys) == (f"unet-studio: error: {labels}: is an input of this "
                                      "command; choose another output name")
    assert labels.read_bytes() == before


def test_measure_refuses_an_input_under_another_name(tmp_path, labels, capsys):
    alias = tmp_path / "alias.tif"
    os.link(labels, alias)  # a hard link: another path, the same file
    before = labels.read_bytes()
    assert main(["measure", str(alias), "-o", str(labels), "--overwrite"]) == 2
    assert "is an input" in one_error_line(capsys)
    assert labels.read_bytes() == before


def test_measure_refuses_a_folder_as_output_before_measuring(tmp_path, labels, capsys):
    folder = tmp_path / "table.csv"
    (folder / "inside").mkdir(parents=True)
    assert main(["measure", str(labels), "-o", str(folder), "--overwrite"]) == 2
    assert one_error_line(capsys).startswith(f"unet-studio: error: {folder}: is a folder")
    assert (folder / "inside").is_dir()


def test_measure_into_a_folder_it_cannot_write_is_one_line(tmp_path, labels, capsys,
                                                           monkeypatch):
    # (root writes anywhere, so the refusal a read-only mount gives is simulated)
    def read_only(*args, dir=None, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", os.path.join(dir, ".tmp-x.csv"))

    monkeypatch.setattr("tempfile.mkstemp", read_only)
    out = tmp_path / "out" / "table.csv"
    assert main(["measure", str(labels), "-o", str(out)]) == 2
    # (the output the user named, not the temporary file that failed first)
    assert one_error_line(capsys) == (f"unet-studio: error: cannot write table.csv in "
                                      f"{out.parent}: Read-only file system; choose another "
                                      "output")
    assert list(out.parent.iterdir()) == []


def test_measure_onto_a_full_disk_is_one_line_with_what_to_do(tmp_path, labels, capsys,
                                                              monkeypatch):
    def full(fd):  # (a full disk often tells only when the written data are flushed)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("os.fsync", full)
    out = tmp_path / "table.csv"
    assert main(["measure", str(labels), "-o", str(out)]) == 2
    assert one_error_line(capsys) == (f"unet-studio: error: cannot write table.csv in "
                                      f"{tmp_path}: No space left on device; nothing was kept "
                                      "of the unfinished output: free some space, or choose "
                                      "another output")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.tif"]


def test_the_app_writer_refuses_what_is_not_a_regular_file(tmp_path):
    pipe = tmp_path / "settings.json"
    os.mkfifo(pipe)
    with pytest.raises(InputFileError, match="not a regular file"):
        atomic.atomic_write_json(pipe, {"a": 1})
    with pytest.raises(InputFileError, match="not a regular file"), atomic.atomic_writing(pipe):
        pass
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode) and list(tmp_path.iterdir()) == [pipe]
    atomic.atomic_write_json(tmp_path / "new.json", {"a": 1})  # a new file is fine
    atomic.atomic_write_json(tmp_path / "new.json", {"a": 2})  # and so is replacing one
    assert (tmp_path / "new.json").read_text() == '{\n  "a": 2\n}\n'


def test_finetune_output_that_is_a_file_stops_before_any_work(tmp_path, labels, capsys):
    assert main(["finetune", "--image", str(labels), "--labels", str(labels),
                 "-o", str(labels), "--max-steps", "1"]) == 2
    assert one_error_line(capsys) == (f"unet-studio: error: {labels}: is a file, not a folder; "
                                      "choose another output folder")


def test_finetune_checks_the_output_folder_is_writable_before_training(tmp_path, labels,
                                                                       capsys, monkeypatch):
    def refused(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr("tempfile.TemporaryFile", refused)
    out = tmp_path / "round-1"
    assert main(["finetune", "--image", str(labels), "--labels", str(labels), "-o", str(out),
                 "--max-steps", "1"]) == 2
    assert one_error_line(capsys) == (f"unet-studio: error: {tmp_path}: cannot write in this "
                                      "folder (permission denied)")
    assert not out.exists()


@pytest.mark.parametrize(("error", "message"), [
    (PermissionError(errno.EACCES, "Permission denied", "/data/out/.tmp-ab12.csv"),
     "/data/out: cannot write in this folder (permission denied); choose another output"),
    (OSError(errno.EROFS, "Read-only file system", "/data/.labels.tif.0a1b2c3d4e.part"),
     "/data: cannot write in this folder (read-only file system); choose another output"),
    (PermissionError(errno.EACCES, "Permission denied", "/data/in.tif"),
     "/data/in.tif: permission denied"),
    (OSError(errno.EROFS, "Read-only file system", "/scratch/unet-studio-scratch-x1"),
     "/scratch: cannot write working files in this folder (read-only file system); set "
     "UNET_STUDIO_SCRATCH_DIR to a writable folder"),
    (IsADirectoryError(errno.EISDIR, "Is a directory", "/d/.o.tif.0a1b2c3d4e.part", None, "/d/o.tif"),
     "/d/o.tif: is a folder, not a file; give a file name"),
    (OSError(errno.EIO, "Input/output error", "/d/o.tif"), None),  # not the user's doing
])
def test_os_errors_the_user_can_fix_become_one_line(error, message):
    assert os_error_message(error) == message


def test_not_a_folder_names_the_file_in_the_way(tmp_path, labels):
    error = NotADirectoryError(errno.ENOTDIR, "Not a directory", str(labels / "a" / "b.csv"))
    assert os_error_message(error) == f"{labels}: is a file, not a folder"


def test_the_sigterm_handler_is_put_back(tmp_path, labels):
    before = signal.getsignal(signal.SIGTERM)
    assert main(["measure", str(labels), "-o", str(tmp_path / "t.csv")]) == 0
    assert signal.getsignal(signal.SIGTERM) is before
