"""The title of a model's card (``card.md``, and the card kept in ``config.json``) after a
rename or a duplicate: the card is exported with the model, so it must say which model it
is. A copy's card keeps the original's notes (its data, metrics, "no parent model": true of
the same weights) under a line saying whose they are.
"""

from __future__ import annotations

# (how a copy's note names its original's source: "bundled:default" -> "the bundled model")
SOURCE_WORDS = {"bundled": "the bundled model", "user": "the user model",
                "project": "the project's model"}


def retitled_card(card: str, name: str, *, copied_from: str | None = None,
                  copied_name: str | None = None) -> str:
    """``card`` headed "# <name>". Its first line is replaced where it is a title ("# ..."),
    whatever it said (a bundled card's title is a description, "unet-studio default
    nuclei model (2D)", not the model's name); a card without one gets one.

    ``copied_from``: the ref of the model this one is a copy of (``metadata.copied_from``),
    ``copied_name`` that model's name where known: a line under the title says the notes
    below are that model's, unless the card says so already (a copy renamed again)."""
    heading, _, rest = card.partition("\n")
    body = rest.lstrip("\n") if heading.startswith("# ") else card
    if copied_from and _copy_mark(copied_from) not in body:
        body = copy_note(copied_from, copied_name) + "\n\n" + body
    return f"# {name}\n\n{body}"


def copy_note(ref: str, name: str | None = None) -> str:
    """"*A copy of the bundled model `default` (`bundled:default`), with the same weights:
    the notes below are that model's.*" (without the name where it is not known)."""
    words = SOURCE_WORDS.get(ref.partition(":")[0], "the model")
    shown = f"`{name}` " if name else ""
    return f"*A copy of {words} {shown}{_copy_mark(ref)}: the notes below are that model's.*"


def _copy_mark(ref: str) -> str:
    """The part of a copy's note by which a card is seen to say so already."""
    return f"(`{ref}`), with the same weights"
