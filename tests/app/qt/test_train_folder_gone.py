"""A Train round whose project folder was deleted while open writes nothing at the old path
(its checkpoints and replay buffer used to rebuild a half project there)."""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import numpy as np
import pytest

from unet_studio.app.project import Project
from unet_studio.app.qt.train_replay import remember_examples
from unet_studio.app.qt.train_round import checkpoint_dir_for
from unet_studio.models.training import TrainingExample


def test_checkpoints_and_the_replay_buffer_stay_out_of_a_deleted_project_folder(tmp_path):
    project = Project.create(tmp_path / "p")
    parent = SimpleNamespace(source="user", path=tmp_path / "models" / "tiny")
    try:
        assert checkpoint_dir_for(project, parent) == tmp_path / "p" / "training" / "from-user-tiny"
        shutil.rmtree(tmp_path / "p")
        assert checkpoint_dir_for(project, parent) is None
        example = TrainingExample(np.zeros((8, 8), np.float32), np.zeros((8, 8), np.int32), name="e")
        with pytest.raises(OSError, match="moved or deleted"):
            remember_examples(project, [example])
        assert not (tmp_path / "p").exists()
    finally:
        project.close()
