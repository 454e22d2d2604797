"""Giving a napari layer new data while it may be hidden.

napari (0.9) works out a layer's extent again on a data change only while the layer is
visible, and showing it later does not (``Layer.visible`` refreshes with ``extent=False``).
A hidden layer refilled with data of another rank (the reviewed overlay of a 2D image
refilled for a 3D stack) then keeps a 2D extent with 3D data: once shown, every repaint of
the canvas raised ``IndexError: index 2 is out of bounds for axis 1 with size 2`` and the
window could not even be grabbed. A smaller change (another shape, same rank) left a wrong
extent, which widens or cuts the view. So every refill of a layer we hide goes through here.
"""

from __future__ import annotations


def replace_data(layer, data, **geometry) -> None:
    """``layer.data = data`` with the extent kept right, hidden or not: a hidden layer is
    shown for the change and hidden again. (All within this call: nothing is painted in
    between, and the layer list hears of the visibility twice.) ``geometry``: ``scale``,
    ``translate`` and ``units`` for the new data (its rank may differ from the old one)."""
    hidden = not layer.visible
    if hidden:
        layer.visible = True
    try:
        layer.data = data
        for name, value in geometry.items():
            setattr(layer, name, value)
    finally:
        if hidden:
            layer.visible = False


def set_aside(layer, empty) -> None:
    """Empty ``layer`` (``empty``: its data when it holds nothing) and hide it, for the next
    picks or regions. Not removed: napari collects all garbage at every layer removal
    (0.3-0.6 s of frozen window in the app, at each merge, split and region marked)."""
    replace_data(layer, empty)
    layer.visible = False
