"""Crypto offload: algorithm handlers behind the CRYPTO / CRYPTO_DMA groups.

A handler is registered for (group, action, algoType, algoSubType) and is called with the request
context and the algorithm body (the payload after the 8-byte v1.4.0 envelope). It returns
`(rc, body)`: rc 0 with the response algorithm struct + data, or a negative code (wolfHSM or
wolfCrypt) with an empty body - at v1.4.0 an error response is the 8-byte header only.
Handlers compute through `engine(ctx)`, which is the software path today and an accelerator reached
through the HAL when the board has one; the bytes are identical, the virtual time differs.

Modules (each has `register(registry)`): rng, symmetric (AES modes, CMAC), sha2 (midstate hashing),
kdf (HKDF, CMAC-KDF), pk_* (RSA, ECC, Curve25519/Ed25519), pqc (ML-DSA).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

# (group, action, algoType, algoSubType or None for "any") -> handler(ctx, body) -> (rc, body)
Handler = Callable[[Any, bytes], tuple[int, bytes]]
SELF_TYPED = (4, 7, 9)  # RNG, CMAC, KDF: their handlers are registered under algoType == action
MODULES = ("rng", "symmetric", "sha2", "kdf", "pk_rsa", "pk_ecc", "pk_25519", "pqc")


class Registry:
    def __init__(self) -> None:
        self.handlers: dict[tuple[int, int, int, int | None], Handler] = {}

    def add(self, group: int, action: int, algo_type: int, handler: Handler, sub_type: int | None = None) -> None:
        self.handlers[(group, action, algo_type, sub_type)] = handler

    def __deepcopy__(self, memo: dict) -> Registry:
        return self  # built once at boot from module functions: snapshots share it

    def find(self, group: int, action: int, algo_type: int, sub_type: int) -> Handler | None:
        h = self.handlers.get((group, action, algo_type, sub_type))
        if h is None:
            h = self.handlers.get((group, action, algo_type, None))
        if h is None and action in SELF_TYPED:
            # wolfHSM dispatches RNG and CMAC by action and KDF by sub-type: the algoType is not looked at
            h = self.handlers.get((group, action, action, sub_type)) or self.handlers.get((group, action, action, None))
        return h


def build_registry() -> Registry:
    reg = Registry()
    for name in MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"{__name__}.{name}":
                continue  # that family is not implemented (yet): its requests get NOT_COMPILED_IN
            raise
        module.register(reg)
    return reg
