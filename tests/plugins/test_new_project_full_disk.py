"""Correct > New project... into a folder on a full disk: the user is told that no project
was made there and why, the folder is left as it was (no empty lock refusing it as "not
empty"), and once space is freed New project... into the same folder works."""

from __future__ import annotations

import errno
import os

import pytest

pytestmark = pytest.mark.qt


def test_new_project_on_a_full_disk_says_none_was_made_and_can_be_tried_again(
        corrected, told, qtbot, monkeypatch, tmp_path):
    from unet_studio.app.qt import correct_panel
    from unet_studio.models import files

    panel = correct_panel.CorrectPanel(corrected.session)
    qtbot.addWidget(panel)
    target = tmp_path / "new"
    target.mkdir()
    monkeypatch.setattr(correct_panel.QFileDialog, "getExistingDirectory",
                        lambda *args, **kwargs: str(target))
    real_replace = files.os.replace

    def replace_on_full_disk(source, destination):  # (the chosen folder's disk is full)
        if os.path.dirname(destination) == str(target):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_replace(source, destination)

    monkeypatch.setattr(files.os, "replace", replace_on_full_disk)
    panel.new_project_button.click()
    level, message = told[-1]
    assert level == "error" and message.startswith(f"No project made in {target}: ")
    assert message.endswith("No space left on device")
    assert list(target.iterdir()) == [] and corrected.session.project.path != target

    monkeypatch.setattr(files.os, "replace", real_replace)  # (space freed)
    panel.new_project_button.click()
    assert corrected.session.project.path == target
    assert (target / "project.json").is_file()
