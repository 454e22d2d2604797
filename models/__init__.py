"""Qt-free engine: networks, tiled inference, post-processing, training, weights."""
