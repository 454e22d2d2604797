"""The application: stack I/O, project store, CLI, workers and Qt panels (qtpy only, no napari)."""
