"""napari colours labels through the compiled backend the app depends on: on a whole-slide
plane its numpy path stalled the GUI 8-10 s at Run (benchmarks/bench_labels_colouring.py),
and the compiled path must draw the same colours."""

from __future__ import annotations

import numpy as np
from napari.layers import Labels
from napari.utils.colormap_backend import ColormapBackend, set_backend
from napari.utils.colormaps import _accelerated_cmap


def shown_texture(labels: np.ndarray, backend: ColormapBackend) -> np.ndarray:
    previous = set_backend(backend)
    try:
        layer = Labels(labels)
        layer.refresh()
        return np.array(layer._slice.image.view)
    finally:
        set_backend(previous)


def test_napari_colours_labels_with_the_compiled_backend():
    set_backend(ColormapBackend.fastest_available)  # (napari's default)
    assert _accelerated_cmap.partsegcore_mapping is not None, "PartSegCore-compiled-backend missing"
    assert _accelerated_cmap.zero_preserving_modulo is _accelerated_cmap.zero_preserving_modulo_partsegcore


def test_compiled_colours_equal_numpy_colours():
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 70000, (96, 128)).astype(np.int32)  # (ids past 65535 too)
    labels[rng.random(labels.shape) < 0.4] = 0
    numpy_view = shown_texture(labels, ColormapBackend.pure_python)
    compiled_view = shown_texture(labels, ColormapBackend.partsegcore)
    np.testing.assert_array_equal(compiled_view, numpy_view)
    # (a real texture: every object drawn, in napari's colour cycle, the background clear)
    assert np.array_equal(compiled_view > 0, labels > 0) and len(np.unique(compiled_view)) > 10
