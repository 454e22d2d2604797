"""A window that opened a project read-only (another window writes it) trains and accepts
rounds too: it must not share the writer's checkpoint folder (the two rounds from one model
would overwrite and resume each other's checkpoints), and its accepted examples join the
project's replay buffer without either window's being lost when both accept at once."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from unet_studio.app.project import Project
from unet_studio.app.qt.train_replay import load_replay, remember_examples
from unet_studio.app.qt.train_round import checkpoint_dir_for
from unet_studio.models.training import ReplayBuffer, TrainingExample


@pytest.fixture
def two_windows(tmp_path):
    """(the writer's project, the same folder opened again: read-only while the first holds it)."""
    writer = Project.create(tmp_path / "p", autosave_delay=0.0)
    reader = Project.open(tmp_path / "p", autosave_delay=0.0)
    try:
        assert reader.read_only and not writer.read_only
        yield writer, reader
    finally:
        reader.close()
        writer.close()


def test_a_read_only_window_trains_without_the_writers_checkpoint_folder(two_windows, tmp_path):
    writer, reader = two_windows
    parent = SimpleNamespace(source="user", path=tmp_path / "models" / "tiny")
    assert checkpoint_dir_for(writer, parent) == tmp_path / "p" / "training" / "from-user-tiny"
    assert checkpoint_dir_for(reader, parent) is None
    writer.close()  # (the writer let it go: the window reopening it writes, and checkpoints)
    again = Project.open(tmp_path / "p", autosave_delay=0.0)
    try:
        assert checkpoint_dir_for(again, parent) == tmp_path / "p" / "training" / "from-user-tiny"
    finally:
        again.close()


def _example(name: str, value: int) -> TrainingExample:
    labels = np.zeros((16, 16), np.int32)
    labels[4:9, 4:9] = value
    return TrainingExample(np.full((16, 16), value, np.float32), labels, name=name)


def test_two_windows_accepting_at_once_both_keep_their_examples(two_windows, monkeypatch):
    writer, reader = two_windows
    save = ReplayBuffer.save

    def slow_save(buffer, directory):  # (each writes back what it read, a while later)
        time.sleep(0.3)
        return save(buffer, directory)

    monkeypatch.setattr(ReplayBuffer, "save", slow_save)
    failures = []

    def accept(project, example):
        try:
            remember_examples(project, [example])
        except Exception as error:  # (said below: a failed thread must fail the test)
            failures.append(error)

    threads = [threading.Thread(target=accept, args=(writer, _example("a", 1))),
               threading.Thread(target=accept, args=(reader, _example("b", 2)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert failures == []
    kept = load_replay(writer).examples
    assert sorted(example.name for example in kept) == ["a", "b"]
    by_name = {example.name: example for example in kept}
    assert by_name["a"].image.max() == 1 and by_name["b"].image.max() == 2
