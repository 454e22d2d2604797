"""Progress bars in napari's activity dock, and when not to show them (software OpenGL)."""

from __future__ import annotations

import functools
import logging

from napari.utils import progress

log = logging.getLogger(__name__)


class ProgressBar:
    """A bar in napari's activity dock, set to absolute counts."""

    def __init__(self, description: str, total: int):
        self._bar = progress(total=max(int(total), 1), desc=description)

    def set(self, done: int, total: int | None = None) -> None:
        if total is not None and total != self._bar.total:
            self._bar.total = max(int(total), 1)
        self._bar.update(int(done) - self._bar.n)

    def close(self) -> None:
        self._bar.close()


class SilentProgress:
    """The ProgressBar interface, showing nothing."""

    def set(self, done: int, total: int | None = None) -> None:
        pass

    def close(self) -> None:
        pass


SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swiftshader", "software rasterizer",
                      "basic render driver", "gdi generic")  # fmt: skip


@functools.lru_cache(maxsize=1)
def software_opengl() -> bool:
    """True when OpenGL is rendered on the CPU (Mesa llvmpipe under Xvfb, remote desktops)."""
    from qtpy.QtGui import QOffscreenSurface, QOpenGLContext

    context = QOpenGLContext()
    if not context.create():
        return True
    surface = QOffscreenSurface()
    surface.setFormat(context.format())
    surface.create()
    try:
        if not context.makeCurrent(surface):
            return True
        renderer = str(context.functions().glGetString(0x1F01) or "")  # GL_RENDERER
    finally:
        context.doneCurrent()
    log.info("OpenGL renderer: %s", renderer)
    return any(name in renderer.lower() for name in SOFTWARE_RENDERERS)
