"""ML-DSA (FIPS 204) keys as wolfCrypt 5.8.4 encodes them, and the signing primitives behind them.

Why a second library: `cryptography` (48) has ML-DSA, but only with *seed* private keys. wolfCrypt
keeps, exports and imports the *expanded* FIPS 204 secret key (2560/4032/4896 bytes) and a v1.4.0
client caches exactly that when it uses a key it generated or decoded itself; `cryptography` can
neither load nor sign with such a key, and it only offers pure ML-DSA (with the ``0x00 || len(ctx)
|| ctx`` prefix), while wolfSSL 5.8.4's plain message API -- what a v1.4.0 server runs -- signs
FIPS 204's *internal* form, mu = SHAKE256(tr || M) (wolfhsm-01fe072-diff.md §8.2). So the maths
comes from ``dilithium-py`` (pure Python, FIPS 204 final, maintained, no native code), which signs
from expanded keys and exposes ML-DSA.Sign_internal / Verify_internal (Algorithms 7 and 8) as
``_sign_internal`` / ``_verify_internal`` -- underscore names, hence the pinned major version.

Encodings (crypto spec §4.5, values file):

* key pair (what keygen returns EPHEMERAL and what the client caches), wolfCrypt ``KeyToDer``::

      SEQUENCE { INTEGER 0, SEQUENCE { OID id-ml-dsa-NN },
                 OCTET STRING { OCTET STRING <expanded sk> },
                 [1] IMPLICIT (primitive, raw) <pk> }

  3904 bytes for ML-DSA-44 (``30820f3c 020100 300b0609608648016503040311 04820a04 04820a00 ...``);
* public key: standard SubjectPublicKeyInfo (1334 bytes for ML-DSA-44), what `cryptography` emits.

The decoder also takes what wolfSSL >= 5.8 (ASN template) takes: RFC 9881 private keys in the
seed-only (``[0] IMPLICIT OCTET STRING(32)``), expanded-only and "both" forms (so `cryptography`'s
54-byte PKCS#8 works), the older raw-expanded form, version 1, an RFC 5958 ``[1]`` BIT STRING public
key, an absent public key (derived from the secret key), and raw public keys by length.
"""

from __future__ import annotations

from dataclasses import dataclass

from firmware.wire import WcError

try:  # pyproject: "dilithium-py>=1.5.1,<2" -- without it the server is built without ML-DSA
    from dilithium_py.ml_dsa import ML_DSA_44, ML_DSA_65, ML_DSA_87
except ModuleNotFoundError:  # pragma: no cover - depends on the environment
    ML_DSA_44 = ML_DSA_65 = ML_DSA_87 = None

AVAILABLE = ML_DSA_44 is not None  # False: the ML-DSA requests answer NOT_COMPILED_IN

__all__ = [
    "AVAILABLE",
    "LEVELS",
    "MlDsaKey",
    "MlDsaKeyError",
    "MlDsaParams",
    "decode_key_der",
    "encode_key_der",
    "encode_public_der",
    "generate",
    "params_for_level",
    "sign_internal",
    "verify_internal",
]


class MlDsaKeyError(Exception):
    """A key or signature operation failed; `rc` is the wolfCrypt code the C server would return."""

    def __init__(self, rc: int, detail: str = "") -> None:
        super().__init__(f"rc {int(rc)}{': ' + detail if detail else ''}")
        self.rc = int(rc)


@dataclass(frozen=True)
class MlDsaParams:
    """One parameter set: wolfCrypt level value (2/3/5), OID, sizes and the dilithium-py engine."""

    level: int
    name: str
    oid: bytes  # DER content octets of the OID (2.16.840.1.101.3.4.3.17/18/19)
    sk_len: int
    pk_len: int
    sig_len: int
    k: int
    omega: int
    engine: object

    def __deepcopy__(self, memo: dict) -> MlDsaParams:
        return self  # immutable: firmware snapshots share it


def _oid(last: int) -> bytes:
    return bytes.fromhex("6086480165030403") + bytes([last])


LEVELS: dict[int, MlDsaParams] = {
    p.level: p
    for p in (
        MlDsaParams(2, "ML-DSA-44", _oid(0x11), 2560, 1312, 2420, 4, 80, ML_DSA_44),
        MlDsaParams(3, "ML-DSA-65", _oid(0x12), 4032, 1952, 3309, 6, 55, ML_DSA_65),
        MlDsaParams(5, "ML-DSA-87", _oid(0x13), 4896, 2592, 4627, 8, 75, ML_DSA_87),
    )
}
_BY_OID = {p.oid: p for p in LEVELS.values()}
_BY_PK_LEN = {p.pk_len: p for p in LEVELS.values()}
SEED_LEN = 32


def params_for_level(level: int) -> MlDsaParams | None:
    """The parameter set of a wolfCrypt level value (WC_ML_DSA_44 = 2, _65 = 3, _87 = 5), or None."""
    return LEVELS.get(level)


@dataclass(frozen=True)
class MlDsaKey:
    """A decoded key: always the public key once decoded; `sk` (expanded) for private keys."""

    params: MlDsaParams
    pk: bytes
    sk: bytes | None = None

    @property
    def level(self) -> int:
        return self.params.level


# ------------------------------------------------------------------------------------------ DER


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(content)) + content


def _read_tlv(buf: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the TLV at `pos`; definite lengths only."""
    if pos + 2 > end:
        raise ValueError("truncated TLV")
    tag, first = buf[pos], buf[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        n = first & 0x7F
        if n == 0 or n > 4 or pos + n > end:
            raise ValueError("bad DER length")
        length = int.from_bytes(buf[pos : pos + n], "big")
        pos += n
    if pos + length > end:
        raise ValueError("TLV overruns its container")
    return tag, pos, pos + length


def _children(buf: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out = []
    pos = start
    while pos < end:
        tag, s, e = _read_tlv(buf, pos, end)
        out.append((tag, s, e))
        pos = e
    return out


def _algorithm(buf: bytes, start: int, end: int) -> MlDsaParams:
    """The ML-DSA parameter set named by an AlgorithmIdentifier (no parameters allowed)."""
    parts = _children(buf, start, end)
    if not parts or parts[0][0] != 0x06 or len(parts) != 1:
        raise ValueError("not an ML-DSA AlgorithmIdentifier")
    params = _BY_OID.get(bytes(buf[parts[0][1] : parts[0][2]]))
    if params is None:
        raise ValueError("OID is not ML-DSA-44/65/87")
    return params


def encode_key_der(key: MlDsaKey) -> bytes:
    """wolfCrypt ``wc_Dilithium_KeyToDer``: OneAsymmetricKey v0, expanded sk, raw ``[1]`` pk."""
    if key.sk is None:
        raise MlDsaKeyError(WcError.BAD_FUNC_ARG, "no private key")
    body = (
        _tlv(0x02, b"\x00")
        + _tlv(0x30, _tlv(0x06, key.params.oid))
        + _tlv(0x04, _tlv(0x04, key.sk))
        + _tlv(0x81, key.pk)
    )
    return _tlv(0x30, body)


def encode_public_der(key: MlDsaKey) -> bytes:
    """SubjectPublicKeyInfo (``wc_Dilithium_PublicKeyToDer`` with the algorithm header)."""
    return _tlv(0x30, _tlv(0x30, _tlv(0x06, key.params.oid)) + _tlv(0x03, b"\x00" + key.pk))


def _private_from_der(der: bytes) -> MlDsaKey:
    tag, s, e = _read_tlv(der, 0, len(der))
    if tag != 0x30 or e != len(der):
        raise ValueError("not a SEQUENCE")
    parts = _children(der, s, e)
    if len(parts) < 3 or parts[0][0] != 0x02 or parts[1][0] != 0x30 or parts[2][0] != 0x04:
        raise ValueError("not a OneAsymmetricKey")
    if der[parts[0][1] : parts[0][2]] not in (b"\x00", b"\x01"):
        raise ValueError("unsupported OneAsymmetricKey version")
    params = _algorithm(der, parts[1][1], parts[1][2])
    sk, seed = _private_key_choice(der, parts[2][1], parts[2][2], params)
    pk = None
    for tag, ps, pe in parts[3:]:
        if tag == 0x81:  # wolfCrypt: raw public key, no BIT STRING unused-bits octet
            pk = bytes(der[ps:pe])
        elif tag == 0xA1:  # RFC 5958: [1] EXPLICIT-like wrapper around a BIT STRING
            inner = _children(der, ps, pe)
            if len(inner) != 1 or inner[0][0] != 0x03 or der[inner[0][1]] != 0:
                raise ValueError("bad [1] public key")
            pk = bytes(der[inner[0][1] + 1 : inner[0][2]])
        elif tag != 0xA0:  # [0] attributes are ignored
            raise ValueError(f"unexpected element 0x{tag:02x}")
    engine = params.engine
    if seed is not None:
        derived_pk, derived_sk = engine.key_derive(seed)
        if sk is not None and sk != derived_sk:
            raise ValueError("seed and expanded key disagree")
        sk = derived_sk
        if pk is None:
            pk = derived_pk
    assert sk is not None
    if pk is None:
        pk = engine.pk_from_sk(sk)  # also checks tr = H(pk)
    if len(pk) != params.pk_len:
        raise ValueError("public key of the wrong length")
    return MlDsaKey(params, pk, sk)


def _private_key_choice(der: bytes, s: int, e: int, params: MlDsaParams) -> tuple[bytes | None, bytes | None]:
    """(expanded sk, seed) from the privateKey OCTET STRING's content (RFC 9881 choices)."""
    content = bytes(der[s:e])
    if len(content) == params.sk_len:  # the pre-RFC raw form
        return content, None
    tag, cs, ce = _read_tlv(der, s, e)
    if ce != e:
        raise ValueError("trailing bytes in privateKey")
    if tag == 0x80 and ce - cs == SEED_LEN:  # seed
        return None, bytes(der[cs:ce])
    if tag == 0x04 and ce - cs == params.sk_len:  # expandedKey (what wolfCrypt writes)
        return bytes(der[cs:ce]), None
    if tag == 0x30:  # both: SEQUENCE { seed OCTET STRING (32), expandedKey OCTET STRING }
        inner = _children(der, cs, ce)
        if (
            len(inner) == 2
            and inner[0][0] == 0x04
            and inner[0][2] - inner[0][1] == SEED_LEN
            and inner[1][0] == 0x04
            and inner[1][2] - inner[1][1] == params.sk_len
        ):
            return bytes(der[inner[1][1] : inner[1][2]]), bytes(der[inner[0][1] : inner[0][2]])
    raise ValueError("unrecognised ML-DSA privateKey")


def _public_from_der(der: bytes) -> MlDsaKey:
    raw = _BY_PK_LEN.get(len(der))
    if raw is not None:  # a bare public key (wolfCrypt's decoder accepts raw keys of the right size)
        return MlDsaKey(raw, bytes(der))
    tag, s, e = _read_tlv(der, 0, len(der))
    if tag != 0x30 or e != len(der):
        raise ValueError("not a SEQUENCE")
    parts = _children(der, s, e)
    if len(parts) != 2 or parts[0][0] != 0x30 or parts[1][0] != 0x03:
        raise ValueError("not a SubjectPublicKeyInfo")
    params = _algorithm(der, parts[0][1], parts[0][2])
    bs, be = parts[1][1], parts[1][2]
    if be - bs != params.pk_len + 1 or der[bs] != 0:
        raise ValueError("public key of the wrong length")
    return MlDsaKey(params, bytes(der[bs + 1 : be]))


def decode_key_der(der: bytes) -> MlDsaKey:
    """Decode a cached key the way the server does: private key first, then public (crypto §4.5).

    Anything else (another algorithm's key, garbage) is ASN_PARSE_E.
    """
    der = bytes(der)
    try:
        return _private_from_der(der)
    except ValueError:
        pass
    try:
        return _public_from_der(der)
    except ValueError as e:
        raise MlDsaKeyError(WcError.ASN_PARSE_E, f"not an ML-DSA key: {e}") from None


# ------------------------------------------------------------------------------------------ maths


def generate(params: MlDsaParams, seed: bytes) -> MlDsaKey:
    """ML-DSA.KeyGen_internal from a 32-byte seed xi (the caller supplies the randomness)."""
    pk, sk = params.engine.key_derive(bytes(seed))
    return MlDsaKey(params, pk, sk)


def sign_internal(key: MlDsaKey, message: bytes, rnd: bytes) -> bytes:
    """ML-DSA.Sign_internal(sk, M, rnd): mu = SHAKE256(tr || M), no context prefix (hedged with `rnd`).

    This is what wolfSSL 5.8.4's ``wc_MlDsaKey_Sign`` does, hence a v1.4.0 server (01fe072 diff §8.2).
    A public-only key cannot sign: BAD_FUNC_ARG, as wolfCrypt answers.
    """
    if key.sk is None:
        raise MlDsaKeyError(WcError.BAD_FUNC_ARG, "public key cannot sign")
    return key.params.engine._sign_internal(key.sk, bytes(message), bytes(rnd))


def hint_well_formed(params: MlDsaParams, sig: bytes) -> bool:
    """FIPS 204 Algorithm 21 (HintBitUnpack) validity: the last omega + k bytes of a signature."""
    omega, k = params.omega, params.k
    h = sig[len(sig) - omega - k :]
    index = 0
    for i in range(k):
        end = h[omega + i]
        if end < index or end > omega:
            return False
        first = index
        while index < end:
            if index > first and h[index - 1] >= h[index]:
                return False
            index += 1
    return all(b == 0 for b in h[index:omega])


def verify_internal(key: MlDsaKey, message: bytes, sig: bytes) -> bool:
    """ML-DSA.Verify_internal(pk, M, sigma) with wolfCrypt's error semantics.

    A signature of the wrong length is BUFFER_E and a malformed hint SIG_VERIFY_E (wolfCrypt
    rejects those before verifying; the hint code is inferred from wolfSSL's dilithium.c); any
    other bad signature is simply "not verified" (rc 0, res 0), as the v1.4.0 suite expects.
    """
    params = key.params
    if len(sig) != params.sig_len:
        raise MlDsaKeyError(WcError.BUFFER_E, "signature of the wrong length")
    if not hint_well_formed(params, sig):
        raise MlDsaKeyError(WcError.SIG_VERIFY_E, "malformed hint")
    return bool(params.engine._verify_internal(key.pk, bytes(message), bytes(sig)))
