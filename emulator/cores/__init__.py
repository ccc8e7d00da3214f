"""Cores: Unicorn cores executing real machine code, and Python cores hosting firmware via a HAL."""

from .base import Core, CoreState
from .python_core import PythonCore
from .unicorn_core import UnicornCore

__all__ = ["Core", "CoreState", "PythonCore", "UnicornCore"]
