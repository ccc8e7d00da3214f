"""Server configuration: the build-time constants of a wolfHSM server, as the v1.4.0 example sets them.

Values from wolfhsm-v1.4.0-diff.md §1 and §3.3 (INFO of the v1.4.0 example server).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ServerConfig:
    server_id: int = 57
    comm_data_len: int = 5000  # the server's COMM_DATA_LEN: capacities and INFO use it
    max_request_payload: int = 5120  # accept what the v1.4.0 test client may send (its COMM_DATA_LEN)
    nvm_object_count: int = 30
    keycache_count: int = 9
    keycache_bufsize: int = 256
    keycache_bigcount: int = 5
    keycache_bigbufsize: int = 4096
    customcb_count: int = 6
    dmaaddr_count: int = 10
    version: bytes = b"01.01.01"
    build: bytes = b"12345678"
    global_keys: bool = True
    keywrap_max_key_size: int = 5000
    keywrap_max_data_size: int = 2000
    rng_seed: int | None = None  # set (hsmemu run --seed): every random byte the server makes is reproducible
    # HSM core cycles charged per request (assumed: no public figure; see the board profile)
    costs: dict[str, int] = field(
        default_factory=lambda: {"request": 2000, "per_byte": 2, "nvm_op": 4000, "key_op": 3000}
    )

    def __deepcopy__(self, memo: dict) -> ServerConfig:
        return self  # read-only while the firmware runs: snapshots share it

    @property
    def mtu(self) -> int:
        return 8 + self.max_request_payload
