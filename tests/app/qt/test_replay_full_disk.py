"""An Accept whose examples cannot be written to the project's replay buffer (a full disk)
keeps them in memory: later rounds revisit them all the same, and they are written at the
next try once space allows (they were dropped for good: "later rounds learn from the
corrections of the project's images only")."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest

from unet_studio.app.project import Project
from unet_studio.app.qt.train_replay import load_replay, remember_examples, replay_for_round
from unet_studio.models.training import ReplayBuffer, TrainingExample


def _example(name: str, value: int) -> TrainingExample:
    labels = np.zeros((16, 16), np.int32)
    labels[4:9, 4:9] = value
    return TrainingExample(np.full((16, 16), value, np.float32), labels, name=name)


def test_examples_not_written_are_revisited_then_written(tmp_path, monkeypatch):
    project = Project.create(tmp_path / "p", autosave_delay=0.0)
    told = []
    try:
        remember_examples(project, [_example("a", 1)])  # (written: the disk had room)
        save = ReplayBuffer.save

        def full_disk(buffer, directory):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(ReplayBuffer, "save", full_disk)
        with pytest.raises(OSError):
            remember_examples(project, [_example("b", 2)])
        assert [e.name for e in load_replay(project).examples] == ["a"]
        # (the next round, the disk still full: it revisits both)
        assert [e.name for e in replay_for_round(project, told.append)] == ["a", "b"]
        monkeypatch.setattr(ReplayBuffer, "save", save)  # (space freed)
        assert [e.name for e in replay_for_round(project, told.append)] == ["a", "b"]
        assert [e.name for e in load_replay(project).examples] == ["a", "b"]  # (written now)
        assert project.unkept_replay == [] and told == []
    finally:
        project.close()
