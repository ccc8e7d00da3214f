"""Services: one module per wolfHSM message group, each with one handler table."""

from __future__ import annotations

import importlib
from typing import Any

# module name -> class name; a module that is not there yet is skipped (its group answers NOTIMPL)
SERVICES = {
    "comm": "CommService",
    "nvm": "NvmService",
    "keystore": "KeystoreService",
    "counter": "CounterService",
    "custom": "CustomService",
    "crypto": "CryptoService",
    "cert": "CertService",
}


def install_all(server: Any) -> None:
    for mod, cls in SERVICES.items():
        try:
            module = importlib.import_module(f"{__name__}.{mod}")
        except ModuleNotFoundError as e:
            if e.name == f"{__name__}.{mod}":
                continue
            raise
        server.add_service(getattr(module, cls)(server))
        if mod == "crypto":  # the DMA group shares the crypto handlers' module
            server.add_service(module.CryptoDmaService(server))
