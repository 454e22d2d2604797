"""The network builder's tooltips (no widgets here): for every option of the U-Net family
(``models.config.ModelConfig``), what it does to the network, when to change it and what it
costs, in the words of someone who segments cells rather than designs networks. Written
from what ``models`` builds: ``unet``, ``unet_plus_plus``, ``blocks``, ``layers``,
``encoders``."""

from __future__ import annotations

import textwrap

TIP_WIDTH = 60  # characters per line of a tooltip

OPTION_TIPS = {
    "spatial_dims": "2: the network sees one plane (YX) at a time, and a stack is segmented "
                    "slice by slice. 3: it sees volumes (ZYX), for objects whose shape only "
                    "shows across slices; it costs far more memory and time per pixel",
    "in_channels": "How many image channels the network reads together: 1 for one stain, "
                   "2 or 3 to use e.g. a nuclear and a membrane stain at once. Images must "
                   "have that many channels to be segmented; each one adds little cost",
    "base_channels": "Features learnt at the first level (a plain encoder doubles them at "
                     "each level; a ResNet's stem, 64 as standard). More can tell apart more "
                     "kinds of objects, but memory and time grow about with its square",
    "depth": "How many times the image is halved on the way down (a ResNet encoder: how "
             "many of its 4 stages are used). Deeper sees more context around each pixel, for "
             "large or crowded objects, at many more parameters (widths double per level)",
    "padding": "same: the result is as large as the input (the usual choice). valid: "
               "unpadded convolutions as in the 2015 U-Net paper, so no guessing past the "
               "borders, but each tile gives a smaller result: more tiles, more time",
    "norm": "batch: rescales the features with statistics learnt in training (the usual "
            "choice); none: no rescaling. group and instance use each tile's own statistics, "
            "so tiles are blended (slower) and can differ from a whole-image result",
    "activation": "The non-linearity after each convolution. relu is the standard; "
                  "leaky_relu or gelu may train more smoothly. identity makes the network "
                  "linear (for analysis only: it cannot segment well)",
    "down": "How each level halves the image: maxpool keeps the strongest response in each "
            "2x2 block (no weights); conv learns a 2x2 stride-2 convolution (a few more "
            "weights). ResNet encoders always use their own strided convolutions",
    "up": "How the decoder doubles the resolution again: transpose learns a 2x2 "
          "up-convolution; linear interpolates, then applies a 3x3 convolution (smoother, "
          "somewhat more memory and time)",
    "dropout": "While training only, randomly silences this fraction of the deepest features, "
               "so that a few annotated images are not learnt by heart. 0.3 to 0.5 when "
               "training data is scarce, else 0; no cost when segmenting",
    "bridge_residual_blocks": "Extra residual blocks at the deepest level, where the network "
                              "combines context from far apart. Each adds many weights (that "
                              "level is the widest) but little time (its image is the smallest)",
    "residual": "Blocks with a shortcut around their two convolutions instead of plain ones, "
                "in the encoder and decoder (a ResNet encoder has its own: the decoder only). "
                "They train more easily when deep; a little more memory",
    "attention": "Gates each skip connection with what the decoder sees there, to damp "
                 "background clutter before it reaches the result. Can help with small "
                 "objects in busy images; a few more weights and a little more time",
    "skip_compress": "A 1x1 convolution after each skip is joined to the decoder, shrinking "
                     "the channels to the level's width: a lighter decoder, most worth it "
                     "where the joins are wide (ResNet encoders, U-Net++)",
    "skip_norm": "Rescales the decoder features and each skip (with the chosen norm) before "
                 "joining them, so that neither outweighs the other. Needs a norm other than "
                 "none; small cost",
    "deep_supervision": "While training, also scores the outputs of earlier decoder stages "
                        "(small extra heads), which can help a deep network learn. Segmenting "
                        "uses the final output only: no cost there, a little while training",
    "decoder_block": "The block after each join in the decoder. conv: two 3x3 convolutions "
                     "(with a shortcut if residual is on). bottleneck: 1x1, 3x3, 1x1 "
                     "convolutions as in ResNet-50, far fewer weights for a similar reach",
    "encoder": "Set by the architecture: choose a resnet…_unet architecture for a ResNet "
               "encoder",
}


# What the network is for, chosen before its options (``network_task``).
TASK_TIPS = {
    "task": "Objects: each cell or nucleus gets its own number, split apart where they "
            "touch, to count, measure and track them (3 outputs: background, inside, "
            "boundary). Classes: each pixel gets a class, for things that are not separate "
            "objects to count, e.g. mitochondria and membranes in EM (one output per class; "
            "trained on class maps)",
    "classes": "The classes the network tells apart, separated by commas, background first "
               "(e.g. background, mitochondria, membrane): in the label images you train on, "
               "0 is the first class (and every unlabelled pixel), 1 the second, and so on. "
               "At least 2, each named once; each adds one output",
}


def task_tip(key: str) -> str:
    """The tooltip of the builder's "task" choice or "classes" field, wrapped as
    :func:`option_tip`'s."""
    return textwrap.fill(TASK_TIPS[key], TIP_WIDTH)


def option_tip(key: str) -> str:
    """The tooltip of option ``key``, in lines of a readable length: Qt shows a plain-text
    tooltip on one line however long it is (a 230-character line ran across the screen)."""
    return textwrap.fill(OPTION_TIPS.get(key, ""), TIP_WIDTH)
