"""Numbers of the wolfHSM wire protocol, each defined once.

Sources: core spec §2 (header, magic, kinds), §4.1 (NVM flags), §5.1 (key ids), §7.1 (custom
callbacks); v1.4.0 diff §3.4/§7.2 for what does not exist at v1.4.0 (marked "HEAD only"); wolfSSL
5.8.4 values file for the crypto action numbers. Which of these exist on a given wire is decided
by :mod:`firmware.wire.versions`, not here.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

# ---------------------------------------------------------------------------- comm header

COMM_HEADER_SIZE = 8
COMM_VERSION = 0x01
COMM_ENDIAN = 0xA5
# Magic as a native u16: endian marker in the high byte, version in the low byte. Written in the
# client's order, so a little-endian client sends 01 A5 and a big-endian one A5 01.
COMM_MAGIC_NATIVE = (COMM_ENDIAN << 8) | COMM_VERSION  # 0xA501
COMM_MAGIC_SWAP = COMM_ENDIAN | (COMM_VERSION << 8)  # 0x01A5: the same bytes read in the other order
COMM_MAGIC_BYTES_LITTLE = bytes((COMM_VERSION, COMM_ENDIAN))  # 01 A5
COMM_MAGIC_BYTES_BIG = bytes((COMM_ENDIAN, COMM_VERSION))  # A5 01

# aux: the header file names these values, but no wolfHSM code sets or reads them (core §2.1);
# the C server echoes the request's aux bytes.
COMM_AUX_REQ_NORMAL = 0x0000
COMM_AUX_REQ_NORESP = 0xFFFF
COMM_AUX_RESP_OK = 0x0000
COMM_AUX_RESP_ERROR = 0x0001
COMM_AUX_RESP_FATAL = 0xFFFE
COMM_AUX_RESP_UNSUPP = 0xFFFF

# ---------------------------------------------------------------------------- sizes

# WOLFHSM_CFG_COMM_DATA_LEN is a build option of each side, not a protocol constant; the
# reference values of a wire version live in versions.py. This is the library default.
COMM_DATA_LEN_LIBRARY_DEFAULT = 1280
TCP_LENGTH_PREFIX_SIZE = 4  # u32 big-endian length before each packet on plain TCP (not TLS)


def comm_mtu(comm_data_len: int) -> int:
    """``WH_COMM_MTU``: header plus the largest payload."""
    return COMM_HEADER_SIZE + comm_data_len


NVM_LABEL_LEN = 24  # WH_NVM_LABEL_LEN
NVM_METADATA_SIZE = 32  # sizeof(whNvmMetadata)
NVM_ID_INVALID = 0
NVM_ACCESS_NONE = 0x0000
NVM_ACCESS_ANY = 0xFFFF
NVM_MAX_DESTROY_OBJECTS_COUNT = 19  # WH_MESSAGE_NVM_MAX_DESTROY_OBJECTS_COUNT


def nvm_max_addobject_len(comm_data_len: int) -> int:
    """``WH_MESSAGE_NVM_MAX_ADDOBJECT_LEN``: data bytes that fit after the 32-byte request."""
    return comm_data_len - NVM_METADATA_SIZE


def nvm_max_read_len(comm_data_len: int) -> int:
    """``WH_MESSAGE_NVM_MAX_READ_LEN``: data bytes that fit after the 4-byte rc."""
    return comm_data_len - 4


INFO_VERSION_LEN = 9  # WH_INFO_VERSION_LEN
INFO_BUILD_LEN = 9  # WH_INFO_BUILD_LEN
CUSTOMCB_LEN = 256  # WOLFHSM_CFG_CUSTOMCB_LEN (size of the custom-callback data union)

KEYWRAP_AES_GCM_IV_SIZE = 12
KEYWRAP_AES_GCM_TAG_SIZE = 16
KEYWRAP_AES_GCM_HEADER_SIZE = KEYWRAP_AES_GCM_IV_SIZE + KEYWRAP_AES_GCM_TAG_SIZE  # blob = IV||TAG||ct

# ---------------------------------------------------------------------------- kinds


class Group(IntEnum):
    """``WH_MESSAGE_GROUP_*``: high byte of the kind."""

    NONE = 0x0000
    COMM = 0x0100
    NVM = 0x0200
    KEY = 0x0300
    CRYPTO = 0x0400
    IMAGE = 0x0500
    PKCS11 = 0x0600
    SHE = 0x0700
    COUNTER = 0x0800
    RESERVED = 0x0900
    CUSTOM = 0x0A00
    CRYPTO_DMA = 0x0B00
    CERT = 0x0C00
    AUTH = 0x0D00  # HEAD only; unknown group at v1.4.0


GROUP_MASK = 0xFF00
ACTION_MASK = 0x00FF


def make_kind(group: int, action: int) -> int:
    """``WH_MESSAGE_KIND``: group in the high byte, action in the low byte."""
    return (group & GROUP_MASK) | (action & ACTION_MASK)


def kind_group(kind: int) -> int:
    return kind & GROUP_MASK


def kind_action(kind: int) -> int:
    return kind & ACTION_MASK


class CommAction(IntEnum):
    NONE = 0x00
    INIT = 0x01
    KEEPALIVE = 0x02
    CLOSE = 0x03
    INFO = 0x04
    ECHO = 0x05


class NvmAction(IntEnum):
    INIT = 0x01
    CLEANUP = 0x02
    GETAVAILABLE = 0x03
    ADDOBJECT = 0x04
    LIST = 0x05
    GETMETADATA = 0x06
    DESTROYOBJECTS = 0x07
    READ = 0x08
    ADDOBJECTDMA = 0x24
    READDMA = 0x28


class KeyAction(IntEnum):
    CACHE = 0
    EVICT = 1
    EXPORT = 2
    COMMIT = 3
    ERASE = 4
    REVOKE = 5
    CACHE_DMA = 6
    EXPORT_DMA = 7
    KEYWRAP = 8
    KEYUNWRAPEXPORT = 9
    KEYUNWRAPCACHE = 10
    DATAWRAP = 11
    DATAUNWRAP = 12
    # HEAD only: a v1.4.0 server treats these as unknown KEY actions (request echoed).
    EXPORT_PUBLIC = 13
    EXPORT_PUBLIC_DMA = 14
    CACHE_RANDOM = 15
    KEYWRAPEXPORT = 16


class SheAction(IntEnum):
    SET_UID = 0
    SECURE_BOOT_INIT = 1
    SECURE_BOOT_UPDATE = 2
    SECURE_BOOT_FINISH = 3
    GET_STATUS = 4
    LOAD_KEY = 5
    LOAD_PLAIN_KEY = 6
    EXPORT_RAM_KEY = 7
    INIT_RND = 8
    RND = 9
    EXTEND_SEED = 10
    ENC_ECB = 11
    ENC_CBC = 12
    DEC_ECB = 13
    DEC_CBC = 14
    GEN_MAC = 15
    VERIFY_MAC = 16


class CounterAction(IntEnum):
    INIT = 0
    INCREMENT = 1
    READ = 2
    DESTROY = 3


class CertAction(IntEnum):
    INIT = 0x01
    ADDTRUSTED = 0x02
    ERASETRUSTED = 0x03
    READTRUSTED = 0x04
    VERIFY = 0x05
    ADDTRUSTED_DMA = 0x22
    READTRUSTED_DMA = 0x24
    VERIFY_DMA = 0x25
    VERIFY_ACERT = 0x26
    VERIFY_ACERT_DMA = 0x27
    # HEAD only (empty response at v1.4.0).
    VERIFY_MULTI_ROOT = 0x06
    VERIFY_CACHE_CLEAR = 0x07
    VERIFY_CACHE_SET_ENABLED = 0x08
    VERIFY_MULTI_ROOT_DMA = 0x28


class AlgoType(IntEnum):
    """wolfCrypt ``enum wc_AlgoType`` (wolfSSL 5.8.4): the action of CRYPTO / CRYPTO_DMA kinds.

    These are wolfSSL values, so they follow the wolfSSL the client was built with.
    """

    NONE = 0
    HASH = 1
    CIPHER = 2
    PK = 3
    RNG = 4
    SEED = 5  # never sent: the client maps seeding to RNG
    HMAC = 6
    CMAC = 7
    CERT = 8
    KDF = 9


class CustomCbType(IntEnum):
    """``whMessageCustomCb_Type``: selects the live member of the custom-callback data union."""

    QUERY = 0  # "is a callback registered at this index?"; no data
    DMA32 = 1  # four u32: client_addr, client_sz, server_addr, server_sz
    DMA64 = 2  # the same as four u64
    RESERVED_3 = 3
    RESERVED_4 = 4
    RESERVED_5 = 5
    RESERVED_6 = 6
    RESERVED_7 = 7
    USER_DEFINED_START = 8  # >= 8: opaque bytes, copied verbatim


# ---------------------------------------------------------------------------- NVM flags


class NvmFlags(IntFlag):
    """``whNvmFlags`` (u16). At v1.4.0 there is no TRUSTED flag: bit 12 is stored as given."""

    NONE = 0x0000
    NONMODIFIABLE = 0x0001
    SENSITIVE = 0x0002
    NONEXPORTABLE = 0x0004
    LOCAL = 0x0008
    EPHEMERAL = 0x0010
    USAGE_ENCRYPT = 0x0020
    USAGE_DECRYPT = 0x0040
    USAGE_SIGN = 0x0080
    USAGE_VERIFY = 0x0100
    USAGE_WRAP = 0x0200
    USAGE_DERIVE = 0x0400
    NONDESTROYABLE = 0x0800
    USAGE_ANY = 0x07E0


NVM_FLAGS_ANY = 0xFFFF
NVM_FLAGS_TRUSTED_HEAD = 0x1000  # HEAD only: server-only flag, stripped from client input

# NVM access field helpers (stored and returned, never enforced).
NVM_ACCESS_OWN_MASK = 0x000F
NVM_ACCESS_OTH_MASK = 0x00F0
NVM_ACCESS_USER_MASK = 0xFF00
NVM_ACCESS_READ = 0x1
NVM_ACCESS_WRITE = 0x2
NVM_ACCESS_EXEC = 0x4
NVM_ACCESS_SPECIAL = 0x8

# ---------------------------------------------------------------------------- key ids


class KeyIdType(IntEnum):
    """TYPE field (bits 15..12) of a server-side key id; the id is also the NVM object id."""

    NVM = 0
    CRYPTO = 1
    SHE = 2
    COUNTER = 3
    WRAPPED = 4
    HW = 5  # HEAD only (needs WOLFHSM_CFG_HWKEYSTORE)


KEYID_TYPE_MASK = 0xF000
KEYID_TYPE_SHIFT = 12
KEYID_USER_MASK = 0x0F00
KEYID_USER_SHIFT = 8
KEYID_ID_MASK = 0x00FF
KEYID_ERASED = 0
KEYID_IDMAX = 0xFF
KEYUSER_GLOBAL = 0
CLIENT_ID_MAX = 0x0F  # USER is 4 bits (v1.4.0 does not enforce it on COMM INIT)

# Flags in client-facing key ids (the ``id``/``keyId``/``serverKeyId`` fields of requests).
KEYID_CLIENT_GLOBAL_FLAG = 0x0100
KEYID_CLIENT_WRAPPED_FLAG = 0x0200
KEYID_CLIENT_HW_FLAG_HEAD = 0x0400  # HEAD only; discarded by a v1.4.0 server


def make_keyid(key_type: int, user: int, key_id: int) -> int:
    """Server-side 16-bit key id: TYPE(4) | USER(4) | ID(8)."""
    return (
        ((key_type << KEYID_TYPE_SHIFT) & KEYID_TYPE_MASK)
        | ((user << KEYID_USER_SHIFT) & KEYID_USER_MASK)
        | (key_id & KEYID_ID_MASK)
    )


def keyid_type(server_id: int) -> int:
    return (server_id & KEYID_TYPE_MASK) >> KEYID_TYPE_SHIFT


def keyid_user(server_id: int) -> int:
    return (server_id & KEYID_USER_MASK) >> KEYID_USER_SHIFT


def keyid_id(server_id: int) -> int:
    return server_id & KEYID_ID_MASK
