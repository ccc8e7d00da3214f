"""Wire versions: which struct serves which kind, and the quirks of each exchange.

Nothing on the wire tells wolfHSM versions apart (DESIGN.md "Wire compatibility"), so the
version is one switch, chosen here by name (``--wire v1.4.0``). Server and client code ask the
:class:`WireVersion` for message descriptions instead of importing structs directly::

    wire = get_wire()                                   # the default, v1.4.0
    spec = wire.lookup(header.kind)                     # None -> wire.unknown_reply(group)
    req = spec.request.unpack(header.order, payload)
    out = spec.response.pack(header.order, rc=0, ...)

A newer wolfHSM wire (HEAD 22ce98b, 01fe072) is added by building another :class:`WireVersion`
beside :data:`V1_4_0`, reusing the structs that did not change (most of them) and declaring the
ones that did (e.g. the 12-byte crypto header), then registering it in :data:`WIRE_VERSIONS`.

Per-exchange notes quote the spec sections they come from: "core" = wolfhsm-wire-core.md,
"diff" = wolfhsm-v1.4.0-diff.md (which wins where it speaks).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType

from .constants import (
    AlgoType,
    CertAction,
    CommAction,
    CounterAction,
    Group,
    KeyAction,
    NvmAction,
    SheAction,
    kind_action,
    kind_group,
    make_kind,
)
from .errors import HEAD_ONLY_CODES, WcError, WhError
from .exceptions import UnknownWireVersionError
from .messages import cert, comm, counter, crypto, customcb, keystore, nvm, she
from .messages.common import EMPTY, KEY_DMA_ADDR_STATUS, KEY_DMA_BUFFER, NVM_METADATA
from .schema import Message


class SizeCheck(Enum):
    """What a C client of this version checks on a response payload's size before using it."""

    NONE = "not checked (only rc and echoed fields are looked at)"
    EXACT = "size == sizeof(response struct)"
    AT_LEAST = "size >= sizeof(response struct)"
    BOUNDED = "sizeof(response struct) <= size <= that + the announced trailing length"


class UnknownReply(Enum):
    """How the C server of this version answers a kind it has no handler for."""

    EMPTY = "header only, payload length 0"
    ECHO = "request payload sent back unchanged (handler returned without setting a length)"
    CRYPTO_NOT_COMPILED_IN = "8-byte generic crypto response: algoType echoed, rc NOT_COMPILED_IN"


@dataclass(frozen=True, slots=True)
class MessageSpec:
    """One request/response exchange of a wire version.

    ``action`` is None for groups where every action shares the layout (CUSTOM: the action is
    the callback index; CRYPTO / CRYPTO_DMA: the action is the wolfCrypt algorithm family and
    the body depends on the header's algoType).
    """

    name: str
    group: Group
    action: int | None
    request: Message
    response: Message
    response_check: SizeCheck
    notes: tuple[str, ...] = ()
    build_option: str | None = None  # wolfHSM build switch both sides need, if any

    @property
    def kind(self) -> int:
        if self.action is None:
            raise ValueError(f"{self.name} covers every action of group {self.group:#06x}")
        return make_kind(self.group, self.action)


@dataclass(frozen=True, eq=False)
class WireVersion:
    """Message table and version-dependent behaviour of one wolfHSM wire."""

    name: str
    wolfhsm_commit: str
    specs: tuple[MessageSpec, ...]
    unknown_replies: Mapping[int, UnknownReply]
    default_unknown_reply: UnknownReply
    crypto_request_header: Message
    crypto_response_header: Message
    error_codes: frozenset[int]
    # WOLFHSM_CFG_COMM_DATA_LEN of the reference example server / test client builds.
    reference_server_comm_data_len: int
    reference_client_comm_data_len: int
    helper_structs: tuple[Message, ...] = ()  # embedded or memory-side structs, not whole payloads
    _by_kind: dict[int, MessageSpec] = field(init=False, repr=False, compare=False)
    _by_group: dict[int, MessageSpec] = field(init=False, repr=False, compare=False)

    def __deepcopy__(self, memo: dict) -> WireVersion:
        return self  # immutable: snapshots of firmware state share it

    def __post_init__(self) -> None:
        by_kind: dict[int, MessageSpec] = {}
        by_group: dict[int, MessageSpec] = {}
        for spec in self.specs:
            table, key = (by_group, int(spec.group)) if spec.action is None else (by_kind, spec.kind)
            if key in table:
                raise ValueError(f"{self.name}: {spec.name} duplicates {table[key].name}")
            table[key] = spec
        object.__setattr__(self, "_by_kind", by_kind)
        object.__setattr__(self, "_by_group", by_group)

    def lookup(self, kind: int) -> MessageSpec | None:
        """The exchange for a kind, or None if this wire has no handler for it."""
        spec = self._by_kind.get(kind)
        if spec is None:
            spec = self._by_group.get(kind_group(kind))
        return spec

    def message(self, group: int, action: int = 0) -> MessageSpec:
        """Like :meth:`lookup` by group and action, but raise ``KeyError`` when absent."""
        spec = self.lookup(make_kind(group, action))
        if spec is None:
            raise KeyError(f"{self.name}: no message for group {group:#06x} action {action:#04x}")
        return spec

    def unknown_reply(self, group: int) -> UnknownReply:
        return self.unknown_replies.get(group, self.default_unknown_reply)

    def messages(self) -> list[Message]:
        """Every distinct struct this wire uses (payloads and helper structs), in table order."""
        seen: dict[int, Message] = {}
        for spec in self.specs:
            for msg in (spec.request, spec.response):
                seen.setdefault(id(msg), msg)
        for msg in self.helper_structs:
            seen.setdefault(id(msg), msg)
        return list(seen.values())

    def is_action_known(self, kind: int) -> bool:
        return kind in self._by_kind or kind_group(kind) in self._by_group

    @staticmethod
    def group_of(kind: int) -> int:
        return kind_group(kind)

    @staticmethod
    def action_of(kind: int) -> int:
        return kind_action(kind)


def _spec(
    name: str,
    group: Group,
    action: int | None,
    request: Message,
    response: Message,
    check: SizeCheck,
    *notes: str,
    build_option: str | None = None,
) -> MessageSpec:
    return MessageSpec(name, group, action, request, response, check, tuple(notes), build_option)


_NVM_SIZE_NOTE = "request size != struct size -> rc ABORTED (-2002) in a normal-size response (core §4.4)"
_KEY_V14_CHECK = "v1.4.0 client does not check the size; never send more than this struct (diff §3.2)"
_SHE_V14 = "v1.4.0: no request-size checks and no client response-size checks (diff §9.3, §9.5)"


def _v1_4_0_specs() -> Iterable[MessageSpec]:
    C, N, K, S = Group.COMM, Group.NVM, Group.KEY, SizeCheck
    yield from (
        _spec(
            "COMM_INIT",
            C,
            CommAction.INIT,
            comm.COMM_INIT_REQUEST,
            comm.COMM_INIT_RESPONSE,
            S.EXACT,
            "request length is not checked by the C server (core §3.1): decode with unpack_lenient",
            "client_id 0 -> BADARGS with an EMPTY response; ids > 15 accepted, stored as u8 (diff §3.3)",
        ),
        _spec(
            "COMM_KEEPALIVE",
            C,
            CommAction.KEEPALIVE,
            EMPTY,
            EMPTY,
            S.NONE,
            "no handler: empty response (core §3.2); not sent by the client library",
        ),
        _spec(
            "COMM_CLOSE",
            C,
            CommAction.CLOSE,
            EMPTY,
            EMPTY,
            S.NONE,
            "response is empty; v1.4.0 client checks group/action only (diff §3.2)",
            "after the response the connection is finished (server state reset, core §2.6)",
        ),
        _spec(
            "COMM_INFO",
            C,
            CommAction.INFO,
            EMPTY,
            comm.COMM_INFO_RESPONSE,
            S.EXACT,
            "request bytes are ignored (use unpack_lenient)",
            "reference v1.4.0 values: 5000/30/9/256/5/4096/6/10/1/2/3/4, '01.01.01', '12345678' (diff §3.3)",
        ),
        _spec(
            "COMM_ECHO",
            C,
            CommAction.ECHO,
            comm.COMM_ECHO,
            comm.COMM_ECHO,
            S.NONE,
            "response = the request bytes, same length (core §3.5)",
        ),
    )
    yield from (
        _spec(
            "NVM_INIT",
            N,
            NvmAction.INIT,
            nvm.NVM_INIT_REQUEST,
            nvm.NVM_INIT_RESPONSE,
            S.EXACT,
            _NVM_SIZE_NOTE,
            "servernvm_id = server comm id (57 in the example); clientnvm_id echoed",
        ),
        _spec(
            "NVM_CLEANUP",
            N,
            NvmAction.CLEANUP,
            EMPTY,
            nvm.NVM_SIMPLE_RESPONSE,
            S.EXACT,
            _NVM_SIZE_NOTE,
            "no-op: NVM contents are not erased (core §4.4)",
        ),
        _spec(
            "NVM_GETAVAILABLE",
            N,
            NvmAction.GETAVAILABLE,
            EMPTY,
            nvm.NVM_GETAVAILABLE_RESPONSE,
            S.EXACT,
            _NVM_SIZE_NOTE,
            "fresh example server: 522584 / 0 / 30 / 0 (diff §1)",
        ),
        _spec(
            "NVM_ADDOBJECT",
            N,
            NvmAction.ADDOBJECT,
            nvm.NVM_ADDOBJECT_REQUEST,
            nvm.NVM_SIMPLE_RESPONSE,
            S.EXACT,
            "payload < 32 -> ABORTED; payload != 32 + len -> rc 0 and nothing stored (core §4.4)",
            "v1.4.0 has no TRUSTED flag: bit 12 stored as given (diff §5.2)",
        ),
        _spec(
            "NVM_LIST",
            N,
            NvmAction.LIST,
            nvm.NVM_LIST_REQUEST,
            nvm.NVM_LIST_RESPONSE,
            S.EXACT,
            _NVM_SIZE_NOTE,
            "access/flags filters ignored; rc always 0 (core §4.4)",
        ),
        _spec(
            "NVM_GETMETADATA",
            N,
            NvmAction.GETMETADATA,
            nvm.NVM_GETMETADATA_REQUEST,
            nvm.NVM_GETMETADATA_RESPONSE,
            S.EXACT,
            _NVM_SIZE_NOTE,
            "NOTFOUND -> every other field zero, still 36 bytes",
        ),
        _spec(
            "NVM_DESTROYOBJECTS",
            N,
            NvmAction.DESTROYOBJECTS,
            nvm.NVM_DESTROYOBJECTS_REQUEST,
            nvm.NVM_SIMPLE_RESPONSE,
            S.EXACT,
            _NVM_SIZE_NOTE,
            "list_count > 19 -> ABORTED; v1.4.0: an absent id -> NOTFOUND and nothing destroyed (diff §5.3)",
        ),
        _spec(
            "NVM_READ",
            N,
            NvmAction.READ,
            nvm.NVM_READ_REQUEST,
            nvm.NVM_READ_RESPONSE,
            S.AT_LEAST,
            _NVM_SIZE_NOTE,
            "success: rc 0 + exactly the clamped bytes; any error: the 4-byte rc only (core §4.4)",
            "client accepts data up to COMM_DATA_LEN - 4",
        ),
        _spec(
            "NVM_ADDOBJECTDMA",
            N,
            NvmAction.ADDOBJECTDMA,
            nvm.NVM_ADDOBJECTDMA_REQUEST,
            nvm.NVM_SIMPLE_RESPONSE,
            S.EXACT,
            _NVM_SIZE_NOTE,
            "metadata (NVM_METADATA, client order) and data are read from client memory",
            "v1.4.0 clients send raw virtual addresses, not DMA-area offsets (diff §2.5)",
            build_option="WOLFHSM_CFG_DMA",
        ),
        _spec(
            "NVM_READDMA",
            N,
            NvmAction.READDMA,
            nvm.NVM_READDMA_REQUEST,
            nvm.NVM_SIMPLE_RESPONSE,
            S.EXACT,
            _NVM_SIZE_NOTE,
            "v1.4.0 clients send raw virtual addresses (diff §2.5)",
            build_option="WOLFHSM_CFG_DMA",
        ),
    )
    ks = keystore
    yield from (
        _spec(
            "KEY_CACHE",
            K,
            KeyAction.CACHE,
            ks.KEY_CACHE_REQUEST,
            ks.KEY_CACHE_RESPONSE,
            S.NONE,
            _KEY_V14_CHECK,
            "v1.4.0 validates no request size (decode with unpack_lenient); id on error is garbage "
            "in C, send 0 (diff §7.4)",
        ),
        _spec(
            "KEY_EVICT",
            K,
            KeyAction.EVICT,
            ks.KEY_EVICT_REQUEST,
            ks.KEY_EVICT_RESPONSE,
            S.NONE,
            _KEY_V14_CHECK,
        ),
        _spec(
            "KEY_EXPORT",
            K,
            KeyAction.EXPORT,
            ks.KEY_EXPORT_REQUEST,
            ks.KEY_EXPORT_RESPONSE,
            S.NONE,
            _KEY_V14_CHECK,
            "error: 36 bytes, len 0, label zero; client refuses len > its buffer",
            "capacity COMM_DATA_LEN - 36 (4964 at the example server), else NOSPACE",
        ),
        _spec(
            "KEY_COMMIT",
            K,
            KeyAction.COMMIT,
            ks.KEY_COMMIT_REQUEST,
            ks.KEY_COMMIT_RESPONSE,
            S.NONE,
            _KEY_V14_CHECK,
        ),
        _spec(
            "KEY_ERASE",
            K,
            KeyAction.ERASE,
            ks.KEY_ERASE_REQUEST,
            ks.KEY_ERASE_RESPONSE,
            S.NONE,
            _KEY_V14_CHECK,
            "v1.4.0: NOTFOUND when the key is not in NVM, even if it was cached (diff §7.4)",
        ),
        _spec(
            "KEY_REVOKE",
            K,
            KeyAction.REVOKE,
            ks.KEY_REVOKE_REQUEST,
            ks.KEY_REVOKE_RESPONSE,
            S.NONE,
            _KEY_V14_CHECK,
        ),
        _spec(
            "KEY_CACHE_DMA",
            K,
            KeyAction.CACHE_DMA,
            ks.KEY_CACHE_DMA_REQUEST,
            ks.KEY_CACHE_DMA_RESPONSE,
            S.NONE,
            "on a DMA failure dmaAddrStatus.badAddr echoes key.addr/key.sz (core §5.5)",
            build_option="WOLFHSM_CFG_DMA",
        ),
        _spec(
            "KEY_EXPORT_DMA",
            K,
            KeyAction.EXPORT_DMA,
            ks.KEY_EXPORT_DMA_REQUEST,
            ks.KEY_EXPORT_DMA_RESPONSE,
            S.NONE,
            "v1.4.0: response len = key.sz (client capacity), not the key length (diff §2.5)",
            "v1.4.0 clients send a raw virtual address in key.addr",
            build_option="WOLFHSM_CFG_DMA",
        ),
        _spec(
            "KEY_KEYWRAP",
            K,
            KeyAction.KEYWRAP,
            ks.KEY_WRAP_REQUEST,
            ks.KEY_WRAP_RESPONSE,
            S.BOUNDED,
            "client: 8 <= size <= 8 + wrappedKeySz, then cipherType == request's, then rc (diff §3.2)",
            "cipherType stays 0 when keySz > max or a capacity check fails (diff §8)",
            "v1.4.0: AES-GCM without AAD; metadata wrapped raw (diff §8)",
            build_option="WOLFHSM_CFG_KEYWRAP",
        ),
        _spec(
            "KEY_KEYUNWRAPEXPORT",
            K,
            KeyAction.KEYUNWRAPEXPORT,
            ks.KEY_UNWRAP_EXPORT_REQUEST,
            ks.KEY_UNWRAP_EXPORT_RESPONSE,
            S.BOUNDED,
            "response is always 8 + 32 + keySz: 40 bytes with zero metadata on error (diff §8)",
            "blob < 60 bytes -> BUFFER_SIZE at v1.4.0 (u16 underflow)",
            build_option="WOLFHSM_CFG_KEYWRAP",
        ),
        _spec(
            "KEY_KEYUNWRAPCACHE",
            K,
            KeyAction.KEYUNWRAPCACHE,
            ks.KEY_UNWRAP_CACHE_REQUEST,
            ks.KEY_UNWRAP_CACHE_RESPONSE,
            S.AT_LEAST,
            "client checks size >= 8 and cipherType echo before rc",
            "v1.4.0: no trusted-KEK requirement; WRAPPED metadata only (diff §8)",
            build_option="WOLFHSM_CFG_KEYWRAP",
        ),
        _spec(
            "KEY_DATAWRAP",
            K,
            KeyAction.DATAWRAP,
            ks.KEY_DATA_WRAP_REQUEST,
            ks.KEY_DATA_WRAP_RESPONSE,
            S.BOUNDED,
            "client: 12 <= size <= 12 + wrappedDataSz, cipherType echo (diff §3.2)",
            "v1.4.0: no usage-flag check on the KEK (diff §8)",
            build_option="WOLFHSM_CFG_KEYWRAP",
        ),
        _spec(
            "KEY_DATAUNWRAP",
            K,
            KeyAction.DATAUNWRAP,
            ks.KEY_DATA_UNWRAP_REQUEST,
            ks.KEY_DATA_UNWRAP_RESPONSE,
            S.BOUNDED,
            "client: 12 <= size <= 12 + dataSz, cipherType echo; blob < 28 -> BUFFER_SIZE (diff §8)",
            build_option="WOLFHSM_CFG_KEYWRAP",
        ),
    )
    T = Group.COUNTER
    _counter_note = "request < 8 bytes -> rc BADARGS in a normal 8-byte response (core §7.2)"
    yield from (
        _spec(
            "COUNTER_INIT",
            T,
            CounterAction.INIT,
            counter.COUNTER_INIT_REQUEST,
            counter.COUNTER_INIT_RESPONSE,
            S.NONE,
            _counter_note,
            "response counter = the new value",
        ),
        _spec(
            "COUNTER_INCREMENT",
            T,
            CounterAction.INCREMENT,
            counter.COUNTER_INCREMENT_REQUEST,
            counter.COUNTER_INCREMENT_RESPONSE,
            S.NONE,
            _counter_note,
            "saturates at 0xFFFFFFFF (rc 0); missing -> NOTFOUND",
        ),
        _spec(
            "COUNTER_READ",
            T,
            CounterAction.READ,
            counter.COUNTER_READ_REQUEST,
            counter.COUNTER_READ_RESPONSE,
            S.NONE,
            _counter_note,
            "missing -> NOTFOUND with counter 0",
        ),
        _spec(
            "COUNTER_DESTROY",
            T,
            CounterAction.DESTROY,
            counter.COUNTER_DESTROY_REQUEST,
            counter.COUNTER_DESTROY_RESPONSE,
            S.NONE,
            _counter_note,
            "missing counter -> rc 0; v1.4.0 always compacts the NVM partition (diff §5.4)",
        ),
    )
    yield _spec(
        "CUSTOM_CB",
        Group.CUSTOM,
        None,
        customcb.CUSTOM_CB_REQUEST,
        customcb.CUSTOM_CB_RESPONSE,
        S.EXACT,
        "kind action = callback index; >= table size -> request ECHOED (core §7.1)",
        "request size != 264 -> request ECHOED (handler returns ABORTED without a length)",
        "QUERY ('check registered'): callback not invoked; err 0 if registered else NOHANDLER (-2007), rc 0",
        "response id = request id; response type is NOT copied from the request (0 unless set)",
        "C quirk not reproduced: for byte-swapped clients the C server selects the response union "
        "member from the already-swapped type, so DMA words go out untranslated",
    )
    _crypto_notes = (
        "8-byte headers at v1.4.0; algorithm struct at payload offset 8 (diff §10.1)",
        "on error the response is the 8-byte header only (algoType echoed, rc)",
        "unknown action or algoType -> rc NOT_COMPILED_IN (-174)",
        "request < 8 bytes -> request ECHOED (handler returns BADARGS without a length)",
        "client checks algoType echo, then rc; no size checks at v1.4.0",
    )
    yield _spec(
        "CRYPTO",
        Group.CRYPTO,
        None,
        crypto.CRYPTO_REQUEST_HEADER,
        crypto.CRYPTO_RESPONSE_HEADER,
        S.NONE,
        *_crypto_notes,
    )
    yield _spec(
        "CRYPTO_DMA",
        Group.CRYPTO_DMA,
        None,
        crypto.CRYPTO_REQUEST_HEADER,
        crypto.CRYPTO_RESPONSE_HEADER,
        S.NONE,
        *_crypto_notes,
        "v1.4.0: an unmatched HASH/CIPHER/PK sub-type returns rc 0 with an empty body (diff §10.5)",
        build_option="WOLFHSM_CFG_DMA",
    )
    H = Group.SHE
    yield from (
        _spec(
            "SHE_SET_UID",
            H,
            SheAction.SET_UID,
            she.SHE_SET_UID_REQUEST,
            she.SHE_SET_UID_RESPONSE,
            S.NONE,
            _SHE_V14,
            "v1.4.0 response is 16 bytes: rc + request bytes 4..15; 8 also works (diff §9.1)",
            "never gated; a second SET_UID -> SEQUENCE_ERROR from the handler (diff §9.2)",
        ),
        _spec(
            "SHE_SECURE_BOOT_INIT",
            H,
            SheAction.SECURE_BOOT_INIT,
            she.SHE_SECURE_BOOT_INIT_REQUEST,
            she.SHE_SECURE_BOOT_INIT_RESPONSE,
            S.NONE,
            _SHE_V14,
        ),
        _spec(
            "SHE_SECURE_BOOT_UPDATE",
            H,
            SheAction.SECURE_BOOT_UPDATE,
            she.SHE_SECURE_BOOT_UPDATE_REQUEST,
            she.SHE_SECURE_BOOT_UPDATE_RESPONSE,
            S.NONE,
            _SHE_V14,
            "client ignores the UPDATE rc",
        ),
        _spec(
            "SHE_SECURE_BOOT_FINISH",
            H,
            SheAction.SECURE_BOOT_FINISH,
            EMPTY,
            she.SHE_SECURE_BOOT_FINISH_RESPONSE,
            S.NONE,
            _SHE_V14,
        ),
        _spec(
            "SHE_GET_STATUS",
            H,
            SheAction.GET_STATUS,
            EMPTY,
            she.SHE_GET_STATUS_RESPONSE,
            S.NONE,
            _SHE_V14,
            "v1.4.0: refused with SEQUENCE_ERROR (sreg 0) until the UID is set (diff §9.2)",
        ),
        _spec(
            "SHE_LOAD_KEY",
            H,
            SheAction.LOAD_KEY,
            she.SHE_LOAD_KEY_REQUEST,
            she.SHE_LOAD_KEY_RESPONSE,
            S.NONE,
            _SHE_V14,
        ),
        _spec(
            "SHE_LOAD_PLAIN_KEY",
            H,
            SheAction.LOAD_PLAIN_KEY,
            she.SHE_LOAD_PLAIN_KEY_REQUEST,
            she.SHE_LOAD_PLAIN_KEY_RESPONSE,
            S.NONE,
            _SHE_V14,
        ),
        _spec(
            "SHE_EXPORT_RAM_KEY",
            H,
            SheAction.EXPORT_RAM_KEY,
            EMPTY,
            she.SHE_EXPORT_RAM_KEY_RESPONSE,
            S.NONE,
            _SHE_V14,
        ),
        _spec("SHE_INIT_RND", H, SheAction.INIT_RND, EMPTY, she.SHE_INIT_RND_RESPONSE, S.NONE, _SHE_V14),
        _spec("SHE_RND", H, SheAction.RND, EMPTY, she.SHE_RND_RESPONSE, S.NONE, _SHE_V14),
        _spec(
            "SHE_EXTEND_SEED",
            H,
            SheAction.EXTEND_SEED,
            she.SHE_EXTEND_SEED_REQUEST,
            she.SHE_EXTEND_SEED_RESPONSE,
            S.NONE,
            _SHE_V14,
        ),
        _spec(
            "SHE_ENC_ECB",
            H,
            SheAction.ENC_ECB,
            she.SHE_ENC_ECB_REQUEST,
            she.SHE_ENC_ECB_RESPONSE,
            S.NONE,
            _SHE_V14,
            "output = sz rounded down to 16; error: sz 0, 8 bytes",
        ),
        _spec(
            "SHE_ENC_CBC",
            H,
            SheAction.ENC_CBC,
            she.SHE_ENC_CBC_REQUEST,
            she.SHE_ENC_CBC_RESPONSE,
            S.NONE,
            _SHE_V14,
        ),
        _spec(
            "SHE_DEC_ECB",
            H,
            SheAction.DEC_ECB,
            she.SHE_DEC_ECB_REQUEST,
            she.SHE_DEC_ECB_RESPONSE,
            S.NONE,
            _SHE_V14,
        ),
        _spec(
            "SHE_DEC_CBC",
            H,
            SheAction.DEC_CBC,
            she.SHE_DEC_CBC_REQUEST,
            she.SHE_DEC_CBC_RESPONSE,
            S.NONE,
            _SHE_V14,
        ),
        _spec(
            "SHE_GEN_MAC",
            H,
            SheAction.GEN_MAC,
            she.SHE_GEN_MAC_REQUEST,
            she.SHE_GEN_MAC_RESPONSE,
            S.NONE,
            _SHE_V14,
        ),
        _spec(
            "SHE_VERIFY_MAC",
            H,
            SheAction.VERIFY_MAC,
            she.SHE_VERIFY_MAC_REQUEST,
            she.SHE_VERIFY_MAC_RESPONSE,
            S.NONE,
            _SHE_V14,
            "mismatch -> status 1 with rc 0; gate refusal also sets status 1",
        ),
    )
    R = Group.CERT
    yield from (
        _spec(
            "CERT_INIT",
            R,
            CertAction.INIT,
            EMPTY,
            cert.CERT_SIMPLE_RESPONSE,
            S.NONE,
            "pad bytes carry stale data in C (diff §3.6); send zeros",
        ),
        _spec(
            "CERT_ADDTRUSTED",
            R,
            CertAction.ADDTRUSTED,
            cert.CERT_ADDTRUSTED_REQUEST,
            cert.CERT_SIMPLE_RESPONSE,
            S.NONE,
            "payload < 36 or cert_len > payload - 36 -> BADARGS; v1.4.0 overwrites protected objects",
        ),
        _spec(
            "CERT_ERASETRUSTED",
            R,
            CertAction.ERASETRUSTED,
            cert.CERT_ERASETRUSTED_REQUEST,
            cert.CERT_SIMPLE_RESPONSE,
            S.NONE,
            "v1.4.0: unchecked destroy, missing id -> rc 0 (diff §11.2)",
        ),
        _spec(
            "CERT_READTRUSTED",
            R,
            CertAction.READTRUSTED,
            cert.CERT_READTRUSTED_REQUEST,
            cert.CERT_READTRUSTED_RESPONSE,
            S.NONE,
            "v1.4.0 oversize cert: BUFFER_SIZE with cert_len = capacity and 8 + capacity bytes",
        ),
        _spec(
            "CERT_VERIFY",
            R,
            CertAction.VERIFY,
            cert.CERT_VERIFY_REQUEST,
            cert.CERT_VERIFY_RESPONSE,
            S.NONE,
            "keyId = client form of the cached leaf id, also on failure (diff §11.2)",
        ),
        _spec(
            "CERT_ADDTRUSTED_DMA",
            R,
            CertAction.ADDTRUSTED_DMA,
            cert.CERT_ADDTRUSTED_DMA_REQUEST,
            cert.CERT_SIMPLE_RESPONSE,
            S.NONE,
            build_option="WOLFHSM_CFG_DMA",
        ),
        _spec(
            "CERT_READTRUSTED_DMA",
            R,
            CertAction.READTRUSTED_DMA,
            cert.CERT_READTRUSTED_DMA_REQUEST,
            cert.CERT_SIMPLE_RESPONSE,
            S.NONE,
            build_option="WOLFHSM_CFG_DMA",
        ),
        _spec(
            "CERT_VERIFY_DMA",
            R,
            CertAction.VERIFY_DMA,
            cert.CERT_VERIFY_DMA_REQUEST,
            cert.CERT_VERIFY_DMA_RESPONSE,
            S.NONE,
            build_option="WOLFHSM_CFG_DMA",
        ),
        _spec(
            "CERT_VERIFY_ACERT",
            R,
            CertAction.VERIFY_ACERT,
            cert.CERT_VERIFY_ACERT_REQUEST,
            cert.CERT_SIMPLE_RESPONSE,
            S.NONE,
            "signature-only check, no date check (diff §11.2)",
            build_option="WOLFHSM_CFG_CERTIFICATE_MANAGER_ACERT",
        ),
        _spec(
            "CERT_VERIFY_ACERT_DMA",
            R,
            CertAction.VERIFY_ACERT_DMA,
            cert.CERT_VERIFY_DMA_REQUEST,
            cert.CERT_SIMPLE_RESPONSE,
            S.NONE,
            "reuses the VERIFY_DMA request struct",
            build_option="WOLFHSM_CFG_DMA",
        ),
    )


V1_4_0 = WireVersion(
    name="v1.4.0",
    wolfhsm_commit="50e408e14dd7e1e9072431d7e7ca824d739ca837",
    specs=tuple(_v1_4_0_specs()),
    # diff §3.4 and core §2.5: what the C server sends for kinds it has no handler for.
    unknown_replies=MappingProxyType(
        {
            Group.NONE: UnknownReply.EMPTY,
            Group.COMM: UnknownReply.EMPTY,
            Group.NVM: UnknownReply.EMPTY,
            Group.KEY: UnknownReply.ECHO,  # includes HEAD-only actions 13..16
            Group.CRYPTO: UnknownReply.CRYPTO_NOT_COMPILED_IN,
            Group.IMAGE: UnknownReply.EMPTY,
            Group.PKCS11: UnknownReply.EMPTY,
            Group.SHE: UnknownReply.ECHO,
            Group.COUNTER: UnknownReply.ECHO,
            Group.RESERVED: UnknownReply.EMPTY,
            Group.CUSTOM: UnknownReply.ECHO,
            Group.CRYPTO_DMA: UnknownReply.CRYPTO_NOT_COMPILED_IN,
            Group.CERT: UnknownReply.EMPTY,
            Group.AUTH: UnknownReply.EMPTY,  # the group does not exist at v1.4.0
        }
    ),
    default_unknown_reply=UnknownReply.EMPTY,
    crypto_request_header=crypto.CRYPTO_REQUEST_HEADER,
    crypto_response_header=crypto.CRYPTO_RESPONSE_HEADER,
    error_codes=frozenset(int(c) for c in WhError if c not in HEAD_ONLY_CODES)
    | {int(WcError.NOT_COMPILED_IN)},
    reference_server_comm_data_len=5000,
    reference_client_comm_data_len=5120,
    helper_structs=(
        NVM_METADATA,
        KEY_DMA_BUFFER,
        KEY_DMA_ADDR_STATUS,
        customcb.CUSTOM_CB_DMA32,
        customcb.CUSTOM_CB_DMA64,
        comm.COMM_ERROR_RESPONSE,
    ),
)

WIRE_VERSIONS: Mapping[str, WireVersion] = MappingProxyType({V1_4_0.name: V1_4_0})
DEFAULT_WIRE_VERSION = V1_4_0.name

# Crypto actions the v1.4.0 server dispatches; any other action -> NOT_COMPILED_IN (diff §10.1, §10.5).
V1_4_0_CRYPTO_ACTIONS = frozenset(
    {AlgoType.HASH, AlgoType.CIPHER, AlgoType.PK, AlgoType.RNG, AlgoType.CMAC, AlgoType.KDF}
)
V1_4_0_CRYPTO_DMA_ACTIONS = frozenset(
    {AlgoType.HASH, AlgoType.CIPHER, AlgoType.PK, AlgoType.RNG, AlgoType.CMAC}
)


def get_wire(name: str | None = None) -> WireVersion:
    """The wire version called ``name`` (default: :data:`DEFAULT_WIRE_VERSION`)."""
    key = DEFAULT_WIRE_VERSION if name is None else name
    try:
        return WIRE_VERSIONS[key]
    except KeyError:
        raise UnknownWireVersionError(
            f"unknown wire version {key!r}; known: {sorted(WIRE_VERSIONS)}"
        ) from None
