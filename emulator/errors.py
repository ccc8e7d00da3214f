"""User-facing errors. The CLI prints these as one line; anything else is a bug."""


class HsmemuError(Exception):
    """An error caused by the user's input (board file, firmware, command line)."""


class BoardError(HsmemuError):
    """A board profile is invalid. The message names the file and the key."""

    def __init__(self, path: str, key: str, message: str) -> None:
        super().__init__(f"{path}: {key}: {message}")
        self.path = path
        self.key = key


class FirmwareError(HsmemuError):
    """A firmware image cannot be loaded on the core it was given to."""
