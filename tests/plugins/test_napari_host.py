"""The host's hold on napari layers: a closed layer must be free to go."""

from __future__ import annotations

import gc
import weakref

from napari.layers import Labels


def test_a_closed_labels_layer_is_freed(corrected, qtbot):
    viewer = corrected.viewer
    layer = next(lay for lay in viewer.layers if isinstance(lay, Labels))
    viewer.layers.selection.active = layer  # the host watches the active labels layer
    qtbot.wait(10)
    closed = weakref.ref(layer)
    viewer.layers.remove(layer)
    del layer
    qtbot.wait(10)
    gc.collect()
    # The history watcher kept the layer (its undo steps, its display buffers) for the
    # whole session: closing and re-segmenting big stacks grew the memory each time.
    # (The project keeps its own copy of the pixels until another image's labels replace it.)
    assert closed() is None


def test_a_stroke_painted_just_before_closing_still_reaches_the_project(corrected, qtbot,
                                                                         saved_labels):
    viewer = corrected.viewer
    layer = next(lay for lay in viewer.layers if isinstance(lay, Labels))
    viewer.layers.selection.active = layer
    qtbot.wait(10)
    layer.paint((6, 40, 40), 77, refresh=True)  # reported on the event loop's next turn...
    viewer.layers.remove(layer)  # ...but the layer closes first
    qtbot.wait(50)
    assert (saved_labels(corrected.session)[6, 38:43, 38:43] == 77).any()
