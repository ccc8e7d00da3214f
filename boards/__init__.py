"""Board profiles: TOML data files and their validating loader."""

from .loader import Board, BoardError, available, load

__all__ = ["Board", "BoardError", "available", "load"]
