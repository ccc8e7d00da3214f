"""Device models. Each module declares its register block as data and hangs behaviour on it.

`TYPES` maps the `type` of a board's `[peripherals.*]` table to the model class.
"""

from .aes import AesEngine
from .flash import FlashController
from .intc import InterruptController
from .mailbox import Mailbox
from .pka import Pka
from .sha import ShaEngine
from .timer import SystemTimer
from .trng import Trng
from .uart import Uart

TYPES = {"flash": FlashController, "uart": Uart, "timer": SystemTimer, "intc": InterruptController, "mailbox": Mailbox}
TYPES |= {"trng": Trng, "aes": AesEngine, "sha": ShaEngine, "pka": Pka}  # crypto accelerators (HSM side)

__all__ = ["TYPES", "InterruptController", "Mailbox", "SystemTimer", "Uart"]
