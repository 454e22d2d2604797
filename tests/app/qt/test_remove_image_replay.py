"""An image the user takes out of the project is no longer learnt from at all: the replay
buffer's examples of it (kept from accepted rounds) go too, others stay."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


def _example(name: str):
    from unet_studio.models.training import TrainingExample

    labels = np.zeros((30, 30), np.int32)
    labels[5:15, 5:15] = 1
    return TrainingExample(image=np.random.default_rng(0).random((30, 30), np.float32),
                           labels=labels, name=name)


def test_removing_an_image_drops_its_replay_examples(session):
    from unet_studio.app.qt.train_replay import load_replay, remember_examples

    project, image_id = session._project_for_current()
    remember_examples(project, [_example("img"), _example("other")])
    assert sorted(e.name for e in load_replay(project).examples) == ["img", "other"]

    session.remove_project_image(image_id)
    assert [e.name for e in load_replay(project).examples] == ["other"]
