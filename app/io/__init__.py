"""Reading and writing image stacks and label files (Qt-free)."""
