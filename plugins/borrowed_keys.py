"""Keys the app binds on a napari viewer that the user may have bound there before
(``viewer.bind_key("N", my_next_frame)`` in their startup script or console): the Correct
panel took them over and, closed, left them unbound, the user's bindings gone. Here the
binding found at a key when the app first takes it is kept, and given back when the app
lets the key go."""

from __future__ import annotations

from collections.abc import Callable


class BorrowedKeys:
    """The viewer-level bindings the app replaced, per key; ``ours``: the functions the app
    bound (a key bound to one of them is not the user's)."""

    def __init__(self):
        self.theirs: dict[str, Callable] = {}
        self.ours: set[Callable] = set()

    def bind(self, viewer, key: str, function: Callable) -> None:
        """Bind ``function`` at ``key`` on ``viewer``, keeping what the user had there."""
        from napari.utils.key_bindings import coerce_keybinding

        before = viewer.keymap.get(coerce_keybinding(key))
        if before in self.ours:
            self.ours.discard(before)  # (ours replaced: not kept alive here)
        elif before is not None and key not in self.theirs:
            self.theirs[key] = before
        self.ours.add(function)
        viewer.bind_key(key, function, overwrite=True)

    def release(self, viewer, key: str) -> None:
        """Unbind ``key`` on ``viewer``, giving the user's binding back where there was one."""
        from napari.utils.key_bindings import coerce_keybinding

        current = viewer.keymap.get(coerce_keybinding(key))
        if current is not None and current not in self.ours:
            return  # (bound again by the user meanwhile: theirs now)
        self.ours.discard(current)
        viewer.bind_key(key, None)
        if key in self.theirs:
            viewer.bind_key(key, self.theirs.pop(key))
