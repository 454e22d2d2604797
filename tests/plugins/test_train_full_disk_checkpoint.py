"""A Train round on a full disk: its checkpoints cannot be written either, and it still
ends with its trained network waiting for Accept (it failed on its first checkpoint with
"Fine-tuning failed: OSError: [Errno 28] No space left on device", the training lost)."""

import errno
import pathlib

import pytest

pytestmark = pytest.mark.qt


@pytest.fixture
def train(corrected, qtbot):
    from unet_studio.app.qt.train_panel import TrainPanel

    session = corrected.session
    session.ensure_reviewed().mark_region((slice(3, 9), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    panel = TrainPanel(session)
    panel.repredict_check.setChecked(False)
    qtbot.addWidget(panel)
    return panel


def test_a_round_whose_checkpoints_fail_waits_for_accept(corrected, train, qtbot, monkeypatch,
                                                         fail_model_writes, quick_round):
    from unet_studio.models.files import TEMP_PREFIX

    real_write = pathlib.Path.write_bytes
    refused = []

    def write_bytes(self, data):  # (a checkpoint's temp file: the disk is full)
        if self.name.startswith(TEMP_PREFIX) and self.suffix == ".safetensors":
            refused.append(self)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(pathlib.Path, "write_bytes", write_bytes)
    fail_model_writes()
    with qtbot.waitSignal(train.finished, timeout=120_000):
        train.start(config=quick_round())
    assert refused and train.round.result is not None and train.round.result.steps == 3
    assert "could not be saved" in train.status.text()
    assert train.accept_button.isEnabled() and train.reject_button.isEnabled()
