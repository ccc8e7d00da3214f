"""Return codes that travel inside wolfHSM response payloads (``rc``/``err`` fields).

``WhError`` holds the wolfHSM codes (``wolfhsm/wh_error.h``, core spec §7.4). Which codes a
given wire may emit is recorded by the wire version (v1.4.0 has no TIMEOUT, REQUEST_PENDING or
AUTH codes, v1.4.0 diff §4). ``WcError`` holds the wolfCrypt codes a server passes through
verbatim in crypto / key-wrap ``rc`` fields (values from wolfSSL 5.8.4).

Python exceptions of the codecs are in :mod:`firmware.wire.exceptions`.
"""

from __future__ import annotations

from enum import IntEnum


class WhError(IntEnum):
    OK = 0
    BADARGS = -2000
    NOTREADY = -2001
    ABORTED = -2002
    RESERVED1 = -2003
    RESERVED2 = -2004
    CERT_VERIFY = -2005
    BUFFER_SIZE = -2006
    NOHANDLER = -2007
    NOTIMPL = -2008
    USAGE = -2009
    TIMEOUT = -2010  # HEAD only
    REQUEST_PENDING = -2011  # HEAD only (client-local)

    LOCKED = -2100
    ACCESS = -2101
    NOTVERIFIED = -2102
    NOTBLANK = -2103
    NOTFOUND = -2104
    NOSPACE = -2105

    SHE_ERC_SEQUENCE_ERROR = -2200
    SHE_ERC_KEY_NOT_AVAILABLE = -2201
    SHE_ERC_KEY_INVALID = -2202
    SHE_ERC_KEY_EMPTY = -2203
    SHE_ERC_NO_SECURE_BOOT = -2204
    SHE_ERC_WRITE_PROTECTED = -2205
    SHE_ERC_KEY_UPDATE_ERROR = -2206
    SHE_ERC_RNG_SEED = -2207
    SHE_ERC_NO_DEBUGGING = -2208
    SHE_ERC_BUSY = -2209
    SHE_ERC_MEMORY_FAILURE = -2210
    SHE_ERC_GENERAL_ERROR = -2211

    AUTH_LOGIN_FAILED = -2300  # HEAD only
    AUTH_PERMISSION_ERROR = -2301  # HEAD only
    AUTH_NOT_ENABLED = -2302  # HEAD only


SHE_ERC_NO_ERROR = 0

# Codes absent from wolfHSM v1.4.0 (v1.4.0 diff §4): a v1.4.0-compatible server never emits them.
HEAD_ONLY_CODES = frozenset(
    {
        WhError.TIMEOUT,
        WhError.REQUEST_PENDING,
        WhError.AUTH_LOGIN_FAILED,
        WhError.AUTH_PERMISSION_ERROR,
        WhError.AUTH_NOT_ENABLED,
    }
)


class WcError(IntEnum):
    """wolfCrypt error codes seen on the wire (wolfSSL 5.8.4 values file)."""

    MP_EXPTMOD_E = -112
    KEY_EXHAUSTED_E = -123
    MEMORY_E = -125
    RSA_BUFFER_E = -131
    BUFFER_E = -132
    ASN_PARSE_E = -140
    ASN_SIG_CONFIRM_E = -155
    ECC_BAD_ARG_E = -170
    ECC_CURVE_OID_E = -172
    BAD_FUNC_ARG = -173
    NOT_COMPILED_IN = -174  # crypto envelope: unknown algorithm / action
    AES_GCM_AUTH_E = -180
    ASN_NO_SIGNER_E = -188
    BAD_STATE_E = -192
    BAD_PADDING_E = -193
    RNG_FAILURE_E = -199
    RSA_PAD_E = -201
    IS_POINT_E = -214
    ECC_INF_E = -215
    ECC_PRIV_KEY_E = -216
    ECC_OUT_OF_RANGE_E = -217
    SIG_VERIFY_E = -229
    WC_KEY_SIZE_E = -234
    WC_HW_E = -248
    RSA_OUT_OF_RANGE_E = -253
    CRYPTOCB_UNAVAILABLE = -271
    BAD_LENGTH_E = -279
