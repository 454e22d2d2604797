"""Qt panels and workers (qtpy only; never napari)."""
