"""unet-studio: U-Net segmentation, correction and fine-tuning for microscopy stacks.

The package root imports nothing heavy: torch, Qt and napari load only where used.
"""

__version__ = "0.1.0"
