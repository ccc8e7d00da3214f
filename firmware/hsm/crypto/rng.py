"""RNG at v1.4.0: CRYPTO action 4, request ``[4]`` {sz}, response ``[4]`` {sz} + sz random bytes.

The server answers ``min(sz, COMM_DATA_LEN - 8 - 4)`` bytes (4988 with the example server's 5000,
v1.4.0 diff §10.2); the client asks in chunks no larger than that. A body shorter than 4 bytes is
BADARGS; ``sz == 0`` is a valid empty answer. The bytes come from the crypto engine: OS entropy, or
the deterministic stream when the server config has ``rng_seed`` (reproducible runs). The C example
server's first ~4 KB are a counter (v1.4.0 diff §10.6); nothing depends on that, so it is not copied.
"""

from __future__ import annotations

from typing import Any

from firmware.wire import AlgoType, Group, WhError

from ..services.crypto import CryptoError
from .engine import engine
from .structs_sym import RNG_REQUEST, RNG_RESPONSE

ENVELOPE = 8  # v1.4.0 generic response header


def register(reg: Any) -> None:
    # v1.4.0 dispatches RNG on the action alone; the client always puts algoType = 4 (RNG).
    reg.add(Group.CRYPTO, AlgoType.RNG, AlgoType.RNG, handle_rng)


def max_chunk(ctx: Any) -> int:
    """Largest answer: the server's COMM_DATA_LEN minus the envelope and the response struct."""
    return int(ctx.config.comm_data_len) - ENVELOPE - RNG_RESPONSE.size


def handle_rng(ctx: Any, body: bytes) -> tuple[int, bytes]:
    if len(body) < RNG_REQUEST.size:
        raise CryptoError(WhError.BADARGS, "short RNG request")
    req = RNG_REQUEST.unpack_prefix(ctx.order, body)[0]
    n = max(0, min(req.sz, max_chunk(ctx)))
    return 0, RNG_RESPONSE.pack(ctx.order, sz=n, data=engine(ctx).random(ctx, n))
