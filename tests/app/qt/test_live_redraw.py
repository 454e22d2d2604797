"""Which streamed regions are redrawn: those meeting the slice on screen."""

from __future__ import annotations

from unet_studio.app.host import ViewState
from unet_studio.app.qt.live_redraw import on_screen


def test_regions_on_other_slices_wait_and_a_view_of_fewer_axes_redraws_all():
    """The view of the stack being segmented: a region on another Z slice is not redrawn.
    The user turned to a 2D image meanwhile (the view has its 2 axes only): whether a
    region of the 3D labels is on screen cannot be told, so it is redrawn (it raised an
    IndexError in the redraw timer, every 100 ms)."""
    stack = ViewState((4, 0, 0), (1, 2), (slice(4, 5), slice(0, 64), slice(0, 64)))
    region = (slice(7, 8), slice(0, 16), slice(0, 16))
    assert not on_screen(region, stack, (0, 1, 2))
    assert on_screen((slice(4, 5), *region[1:]), stack, (0, 1, 2))
    other_image = ViewState((0, 0), (0, 1), (slice(0, 64), slice(0, 64)))
    assert on_screen(region, other_image, (0, 1, 2))
