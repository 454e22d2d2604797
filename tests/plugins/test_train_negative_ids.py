"""The Train panel on labels with negative ids: its status names the labels layer and the
image and says what to do (it said "Fine-tuning failed: ValueError: ...")."""

import pytest

pytestmark = pytest.mark.qt


def test_train_on_negative_ids_says_which_layer_and_what_to_do(corrected, qtbot, quick_round):
    from unet_studio.app.qt.train_panel import TrainPanel

    session = corrected.session
    labels = session.host.current_labels()
    labels[4:6, 10:20, 10:20] = -3
    session.ensure_reviewed().mark_region((slice(3, 9), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    train = TrainPanel(session)
    qtbot.addWidget(train)
    train.start(config=quick_round())
    qtbot.waitUntil(lambda: train.worker is None, timeout=60_000)
    layer = session.host.labels_layer()
    text = train.status.text()
    assert text.startswith(f"Cannot train: {layer.name!r}, the labels of 'nuclei', holds "
                           "negative ids (as low as -3)")
    assert "ValueError" not in text
