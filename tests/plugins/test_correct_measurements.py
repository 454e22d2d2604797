"""Correct panel, "Export measurements…": the current labels measured under the current image in
a worker, written as a CSV, told in a notification; nothing to measure is an error message."""

from __future__ import annotations

import csv

import numpy as np
import pytest

pytestmark = pytest.mark.qt


def _panel(studio, qtbot, monkeypatch):
    from unet_studio.app.qt.correct_panel import CorrectPanel

    told = []
    monkeypatch.setattr(studio.host, "notify",
                        lambda message, level="info", **_: told.append((message, level)))
    panel = CorrectPanel(studio.session)
    qtbot.addWidget(panel)
    return panel, told


def test_export_measurements_writes_one_row_per_object(corrected, qtbot, monkeypatch, tmp_path):
    panel, told = _panel(corrected, qtbot, monkeypatch)
    labels = corrected.host.current_labels()
    # The layer's pixel size in a length unit: sizes in µm too (without one, none: below).
    corrected.viewer.layers["nuclei"].units = ("micrometer",) * 3
    assert panel._default_measurements_path().name == "nuclei_objects.csv"
    target = tmp_path / "objects.csv"
    worker = panel.export_measurements(target)
    assert worker is not None and not panel.measure_button.isEnabled()
    qtbot.waitUntil(lambda: panel.measure_worker is None, timeout=30_000)
    assert panel.measure_button.isEnabled()
    with open(target, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    ids = np.unique(labels[labels > 0])
    assert [int(row["label"]) for row in rows] == ids.tolist()
    assert sum(int(row["pixels"]) for row in rows) == int((labels > 0).sum())
    assert float(rows[0]["volume_um3"]) == pytest.approx(int(rows[0]["pixels"]) * 0.29 * 0.26 * 0.26)
    assert float(rows[0]["mean_intensity"]) > 0
    assert told == [(f"Measured {len(ids)} objects of nuclei: {target}", "info")]

    corrected.viewer.layers["nuclei"].units = ("pixel",) * 3  # sizes unknown: no µm column
    panel.export_measurements(target)
    qtbot.waitUntil(lambda: panel.measure_worker is None, timeout=30_000)
    with open(target, newline="", encoding="utf-8") as handle:
        again = list(csv.DictReader(handle))
    assert "volume_um3" not in again[0] and again[0]["pixels"] == rows[0]["pixels"]


def test_export_measurements_without_labels_is_an_error_message(studio, qtbot, monkeypatch,
                                                                tmp_path, nuclei_crop):
    panel, told = _panel(studio, qtbot, monkeypatch)
    assert panel.export_measurements(tmp_path / "objects.csv") is None
    studio.viewer.add_image(nuclei_crop[0], name="nuclei", metadata={"axes": "ZYX"})
    assert panel.export_measurements(tmp_path / "objects.csv") is None
    assert [level for _, level in told] == ["error", "error"]
    assert "Nothing to measure" in told[0][0]
    assert not (tmp_path / "objects.csv").exists()


def test_a_channel_layer_is_measured_with_every_channel_of_its_file(studio, qtbot, monkeypatch, tmp_path,
                                                                    nuclei_crop):  # fmt: skip
    """Segmented on the nuclei channel's layer, the table holds each channel's intensity
    (a marker's level in each nucleus: why there is a second channel), as the CLI's does."""
    import tifffile

    image, labels = nuclei_crop
    marker = (image.max() - image).astype(image.dtype)  # (another channel, other values)
    path = tmp_path / "two.tif"
    tifffile.imwrite(path, np.stack([marker, image], axis=1), imagej=True,
                     metadata={"axes": "ZCYX"})
    studio.viewer.open(str(path), plugin="unet-studio")
    studio.session.select_image("two [C1]")
    studio.session.show_labels(labels.copy())
    panel, _ = _panel(studio, qtbot, monkeypatch)
    target = tmp_path / "objects.csv"
    panel.export_measurements(target)
    qtbot.waitUntil(lambda: panel.measure_worker is None, timeout=30_000)
    with open(target, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    first = labels == int(rows[0]["label"])
    assert float(rows[0]["mean_intensity_c0"]) == pytest.approx(marker[first].mean(), rel=1e-4)
    assert float(rows[0]["mean_intensity_c1"]) == pytest.approx(image[first].mean(), rel=1e-4)


def test_exported_measurements_of_a_time_series_give_the_time_in_seconds(
        studio, qtbot, monkeypatch, tmp_path, nuclei_crop):
    """A series whose layer states its frame interval (here in minutes): a time_s column,
    as `unet-studio measure` writes it; one in "pixels" (none stated): no such column."""
    panel, _ = _panel(studio, qtbot, monkeypatch)
    image, labels = nuclei_crop
    layer = studio.viewer.add_image(image[:3], name="series", metadata={"axes": "TYX"},
                                    scale=(30, 0.65, 0.65), units=("minute", "um", "um"))
    studio.session.show_labels(labels[:3].copy())
    target = tmp_path / "objects.csv"
    for units, expected in ((("minute", "um", "um"), 3600.0), (("pixel",) * 3, None)):
        layer.units = units
        panel.export_measurements(target)
        qtbot.waitUntil(lambda: panel.measure_worker is None, timeout=30_000)
        with open(target, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        last = next(row for row in rows if row["frame"] == "2")  # (2 x 30 min)
        assert last.get("time_s") == (None if expected is None else f"{expected:g}"), (units, last)


def test_an_export_ending_after_the_panel_was_deleted_ends_quietly(corrected, qtbot, monkeypatch,
                                                                   tmp_path):
    """The window closed while the measurements were written (its panel and button deleted
    under the worker): the file is written and told, and the end does not reach for the
    deleted button ("QPushButton already deleted" from the worker's end)."""
    shiboken = pytest.importorskip("shiboken6")  # (PySide's own way of deleting it now)
    from unet_studio.app.qt.correct_panel import CorrectPanel

    told = []
    monkeypatch.setattr(corrected.host, "notify",
                        lambda message, level="info", **_: told.append((message, level)))
    panel = CorrectPanel(corrected.session)  # (no qtbot.addWidget: it is deleted below)
    target = tmp_path / "objects.csv"
    assert panel.export_measurements(target) is not None
    # Deleted in this turn of the event loop: the worker's end, a queued signal, comes after.
    shiboken.delete(panel)
    qtbot.waitUntil(lambda: panel.measure_worker is None, timeout=30_000)
    assert target.is_file() and told[-1][0].startswith("Measured ")
