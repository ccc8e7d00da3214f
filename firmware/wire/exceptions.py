"""Python exceptions raised by the wire codecs.

These are *codec* failures (bytes that do not fit a declaration). They are distinct from the
wolfHSM return codes in :mod:`firmware.wire.errors`, which travel inside response payloads.
A server handler typically catches :class:`WireSizeError` and answers with the code wolfHSM
uses for that message (e.g. ``WH_ERROR_ABORTED`` for a mis-sized NVM request).
"""

from __future__ import annotations


class WireError(ValueError):
    """Base class of every wire codec error."""


class WireSizeError(WireError):
    """Input is shorter or longer than the declaration allows."""

    def __init__(self, what: str, got: int, minimum: int, maximum: int | None) -> None:
        self.what = what
        self.got = got
        self.minimum = minimum
        self.maximum = maximum
        if maximum is None:
            bound = f">= {minimum}"
        elif maximum == minimum:
            bound = f"== {minimum}"
        else:
            bound = f"{minimum}..{maximum}"
        kind = "short" if got < minimum else "oversize"
        super().__init__(f"{what}: {kind} input, {got} bytes (expected {bound})")


class WireValueError(WireError):
    """A field value does not fit its declared C type or size, or is unknown."""


class WireMagicError(WireError):
    """The comm header magic is neither ``01 A5`` (little endian) nor ``A5 01`` (big endian)."""


class UnknownWireVersionError(WireError):
    """No wire version of that name is registered."""
