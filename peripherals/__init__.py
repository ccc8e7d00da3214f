"""Device models. Each module declares its register block as data and hangs behaviour on it.

`TYPES` maps the `type` of a board's `[peripherals.*]` table to the model class.
"""

from .flash import FlashController
from .intc import InterruptController
from .mailbox import Mailbox
from .timer import SystemTimer
from .uart import Uart

TYPES = {"flash": FlashController, "uart": Uart, "timer": SystemTimer, "intc": InterruptController, "mailbox": Mailbox}

__all__ = ["TYPES", "InterruptController", "Mailbox", "SystemTimer", "Uart"]
