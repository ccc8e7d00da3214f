"""wolfCrypt key encodings (firmware/hsm/crypto/keyenc.py) against real wolfSSL 5.8.4 output.

Every hex sample below is copied from ``layout/wolfssl-5.8.4-values.txt`` (printed by a probe
linked against wolfSSL 5.8.4, crypto spec §4): the decoders must read them, and the encoders must
reproduce them byte for byte from the decoded key.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature

from firmware.hsm.crypto import keyenc as k
from firmware.hsm.crypto.pk_ecc import _verify_affine, bits2int
from tests.hsm.crypto.test_pk_support import ASN_PARSE_E, ECC_CURVE_OID_E, h

# ---- wolfSSL 5.8.4 probe output (values file)
ECC_KEYTODER = h(
    "3077020101042048f876bc1658af2fbd1038ac758a5834a152b9f57bd4fe7d07a445ff22756661a00a06082a8648ce3d030107a1"
    "440342000470a7b21cba188d9646af0d6006820133b391ccfd987e1f14746c743af713f7a56710798dcf7206f19cd2eaa3daacb3"
    "c33b668b038e6a63c78f7e65ffa858a361"
)
ECC_PRIVTODER = h(
    "3031020101042048f876bc1658af2fbd1038ac758a5834a152b9f57bd4fe7d07a445ff22756661a00a06082a8648ce3d030107"
)
ECC_PUBTODER = h(
    "3059301306072a8648ce3d020106082a8648ce3d0301070342000470a7b21cba188d9646af0d6006820133b391ccfd987e1f14746c"
    "743af713f7a56710798dcf7206f19cd2eaa3daacb3c33b668b038e6a63c78f7e65ffa858a361"
)
ECC_X963 = h(
    "0470a7b21cba188d9646af0d6006820133b391ccfd987e1f14746c743af713f7a56710798dcf7206f19cd2eaa3daacb3c33b668b"
    "038e6a63c78f7e65ffa858a361"
)
ECC_SIG = h(
    "3045022021cebc5dc8ee6d4b13f020473c6f6319331b2269cb40b7a561de826079a35521022100eff18b134edca5a72c5941778a25"
    "5f56089ac4a8147826a8dc83670dae06556d"
)
RSA_KEYTODER = h(
    "3082025b020100028181009fa43f58282eb375f2af0e5da77a4e2575717dfb2bf51cb9a05124d46db7fcf47cd3e598a5ff43d9a09c"
    "da196f1b98afa731362df0cc9a87383f2a3361869610f217c093e0b384a5533fe6ec6e096d57683e84c4b22f1813b2b27d24b723fa"
    "92beff185628bd5e4330df09fc7037166115aaaf3e0af3efbfae7a20b6c441545f020301000102818003eb5b66c5adc7d8287a25c7"
    "24da7adaae9477bc57eaefa69b0a02f6782f2135bb6ed45f380c1955597d2059a981aaf0fd10d73caf81c675756b0f952d5ac98a5d"
    "09eecb60569d0d282db248a389c61652e07890f8e1aa931076a64ebfbb8e459965e52178d93819158320ace5a30f0c386b96bfaf73"
    "04da0c863ca76bee0579024100cbe63b4713d191ccd189c6c2798cfb5d469135f65261c2850652ec5d7b74880ded3fc9d0d1eff35e"
    "f51ac4ac730507b2e759942d41a9da3dfa0fd73ab06610cd024100c86ef6372412e415e2787a7b71f44f9849a51f7b4009e17418c4"
    "f3ad9c5f6ab2b1b044479c0fee950fa9316b9fa6185764eb91df9760a107edf739c9a0c0c9db02400bb51d843844193e0c6dffc69c"
    "da1678c59b82e0b0dc42220739edae746f3d7ca739b969cf141b0241ca96ae5c3056bfd3fed5be3f7df43508cdae0b05a3e6a50240"
    "21b708939dedcf901ed845421e990a0a83d8d2c2d8b2d0c9c6a0da9c898143616ba24ada00d66d3b85b6e0294a6196169d5342e669"
    "8047961de1484732533ba10240715bc0a36bbc0924d270ce3200990969817072176226a3da1ae693109bbd57c57c7d7fcfd350e716"
    "4cc737affe46b82e1a840bcbb5259d331c9a5a80ad33356f"
)
RSA_PUBTODER = h(
    "30819f300d06092a864886f70d010101050003818d00308189028181009fa43f58282eb375f2af0e5da77a4e2575717dfb2bf51cb9"
    "a05124d46db7fcf47cd3e598a5ff43d9a09cda196f1b98afa731362df0cc9a87383f2a3361869610f217c093e0b384a5533fe6ec6e"
    "096d57683e84c4b22f1813b2b27d24b723fa92beff185628bd5e4330df09fc7037166115aaaf3e0af3efbfae7a20b6c441545f0203"
    "010001"
)
X25519_INTERNAL_K = h("d0d19ba583bbb48a1f97bc6f3dc908ad2a95078f277e7d5d5df0bc5962c84951")
X25519_INTERNAL_P = h("e5820ac33a8ba308b697e241d89d6ee74e4c818d6ab85b26c85f0bc8d966bf6e")
X25519_KEYTODER = h(
    "3050020100300506032b656e042204205149c86259bcf05d5d7d7e278f07952aad08c93d6fbc971f8ab4bb83a59bd1d081206ebf66"
    "d9c80b5fc8265bb86a8d814c4ee76e9dd841e297b608a38b3ac30a82e5"
)
X25519_PUBTODER = h("302a300506032b656e0321006ebf66d9c80b5fc8265bb86a8d814c4ee76e9dd841e297b608a38b3ac30a82e5")
X25519_PEER_INTERNAL_P = h("c3e0ce562abe932e2260d97968644f90402c43b7e7b411480b04412bb2c77a20")
X25519_SS_LE = h("f2feb3080922b4d76d146ef2e120505926a415f064440e2af4533ae785768a06")
X25519_SS_BE = h("068a7685e73a53f42a0e4464f015a426595020e1f26e146dd7b4220908b3fef2")
ED_SEED = h("91ff2a4f15fbadcf8bc73995ce82fd058791d07f8af0559fe1288a0e5bfaa34d")
ED_PUB = h("a02e93dd30bb88c3a58a066aa8350a62b32107ffd56361fa55c34e239c6a8ace")
ED_KEYTODER = h(
    "3050020100300506032b65700422042091ff2a4f15fbadcf8bc73995ce82fd058791d07f8af0559fe1288a0e5bfaa34d8120a02e93"
    "dd30bb88c3a58a066aa8350a62b32107ffd56361fa55c34e239c6a8ace"
)
ED_PUBTODER = h("302a300506032b6570032100a02e93dd30bb88c3a58a066aa8350a62b32107ffd56361fa55c34e239c6a8ace")


def _rc(fn, *args) -> int:  # type: ignore[no-untyped-def]
    with pytest.raises(k.KeyEncodingError) as err:
        fn(*args)
    return err.value.rc


# ------------------------------------------------------------------------------------------ ECC


def test_ecc_key_pair_sample_round_trips() -> None:
    key = k.ecc_from_der(ECC_KEYTODER)
    assert key.curve.wc_id == 7 and key.private is not None
    assert (
        key.public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint) == ECC_X963
    )
    assert k.ecc_pair_der(key.private) == ECC_KEYTODER  # 121 bytes, byte-exact with wc_EccKeyToDer
    assert k.ecc_spki_der(key.public) == ECC_PUBTODER  # 91 bytes, wc_EccPublicKeyToDer(with curve)


def test_ecc_private_only_and_public_samples_decode() -> None:
    full = k.ecc_from_der(ECC_KEYTODER)
    priv_only = k.ecc_from_der(ECC_PRIVTODER)  # 51 bytes, no [1]: the public point is derived
    assert priv_only.private is not None
    assert priv_only.public.public_numbers() == full.public.public_numbers()
    pub = k.ecc_from_der(ECC_PUBTODER)
    assert pub.private is None and pub.public.public_numbers() == full.public.public_numbers()
    r, s = decode_dss_signature(ECC_SIG)  # the probe's 71-byte signature is plain DER {r, s}
    assert 0 < r < full.curve.n and 0 < s < full.curve.n


@pytest.mark.parametrize(("curve", "size"), [(ec.SECP256R1(), 121), (ec.SECP384R1(), 167), (ec.SECP521R1(), 223)])
def test_ecc_key_pair_sizes(curve: ec.EllipticCurve, size: int) -> None:
    der = k.ecc_pair_der(ec.generate_private_key(curve))
    assert len(der) == size  # SEC1 sizes of wolfCrypt (v1.4.0 diff §10.2: 121/167/223)
    pkcs8 = ec.derive_private_key(5, curve).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert k.ecc_from_der(pkcs8).private.private_numbers().private_value == 5  # type: ignore[union-attr]


def test_ecc_curve_constants_match_openssl() -> None:
    for c in k.CURVES:
        g = ec.derive_private_key(1, c.curve()).public_key().public_numbers()
        minus_g = ec.derive_private_key(c.n - 1, c.curve()).public_key().public_numbers()
        assert (minus_g.x, minus_g.y) == (g.x, c.p - g.y)  # (n-1)G = -G: n is the order, p the prime
        assert c.size == (c.p.bit_length() + 7) // 8


def test_ecc_decode_errors() -> None:
    assert _rc(k.ecc_from_der, RSA_KEYTODER) == ASN_PARSE_E  # an RSA key is not an ECC key
    assert _rc(k.ecc_from_der, ECC_KEYTODER[:60]) == ASN_PARSE_E  # truncated
    k1 = ec.generate_private_key(ec.SECP256K1())
    der = k1.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    assert _rc(k.ecc_from_der, der) == ECC_CURVE_OID_E  # secp256k1 is not in the build


def test_affine_verify_agrees_with_openssl() -> None:
    """The pure-integer verifier (used for hashes OpenSSL cannot take) on an ordinary case."""
    curve = k.CURVE_BY_ID[16]
    key = ec.generate_private_key(curve.curve())
    digest = bytes(range(64))
    sig = key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA512())))
    r, s = decode_dss_signature(sig)
    e = bits2int(digest, curve)
    assert _verify_affine(curve, key.public_key(), e, r, s)
    assert not _verify_affine(curve, key.public_key(), e + 1, r, s)


def test_bits2int_keeps_leftmost_order_bits() -> None:
    p256, p521 = k.CURVE_BY_ID[7], k.CURVE_BY_ID[16]
    digest64 = bytes(range(1, 65))
    assert bits2int(digest64, p256) == int.from_bytes(digest64[:32], "big")
    assert bits2int(digest64, p521) == int.from_bytes(digest64, "big")  # 512 < 521 bits: all of it
    digest66 = b"\xff" * 66
    assert bits2int(digest66, p521) == (1 << 521) - 1  # 528 bits -> leftmost 521
    assert bits2int(b"", p256) == 0


# ------------------------------------------------------------------------------------------ RSA


def test_rsa_samples_round_trip() -> None:
    key = k.rsa_from_der(RSA_KEYTODER)
    assert key.is_private and key.size == 128 and key.e == 65537
    assert k.rsa_private_der(key) == RSA_KEYTODER  # PKCS#1 RSAPrivateKey, byte-exact (607 bytes)
    assert k.rsa_public_der(key) == RSA_PUBTODER  # SPKI, byte-exact (162 bytes)
    pub = k.rsa_from_der(RSA_PUBTODER)
    assert (pub.n, pub.e, pub.is_private) == (key.n, key.e, False)
    pkcs1_pub = RSA_PUBTODER[22:]  # the bare RSAPublicKey inside the BIT STRING
    assert k.rsa_from_der(pkcs1_pub).n == key.n
    x = 0x1234567
    assert key.private(key.public(x)) == x


def test_rsa_decode_errors() -> None:
    assert _rc(k.rsa_from_der, ECC_KEYTODER) == ASN_PARSE_E
    assert _rc(k.rsa_from_der, b"\x30\x00") == ASN_PARSE_E


# ------------------------------------------------------------------------------------------ X25519


def test_x25519_sample_is_byte_reversed() -> None:
    key = k.x25519_from_der(X25519_KEYTODER)
    assert key.private == X25519_INTERNAL_K  # DER holds the reverse of the RFC 7748 scalar
    assert key.public == X25519_INTERNAL_P
    assert X25519_KEYTODER[16:48] == X25519_INTERNAL_K[::-1]
    # the internal (little-endian) values are the RFC 7748 ones: cryptography agrees
    priv = x25519.X25519PrivateKey.from_private_bytes(X25519_INTERNAL_K)
    assert priv.public_key().public_bytes_raw() == X25519_INTERNAL_P
    peer = x25519.X25519PublicKey.from_public_bytes(X25519_PEER_INTERNAL_P)
    assert priv.exchange(peer) == X25519_SS_LE and X25519_SS_BE == X25519_SS_LE[::-1]
    # encoders reproduce wolfCrypt's 82- and 44-byte forms
    assert k.x25519_pair_der(X25519_INTERNAL_K, X25519_INTERNAL_P) == X25519_KEYTODER
    assert k.x25519_spki_der(X25519_INTERNAL_P) == X25519_PUBTODER
    assert k.x25519_from_der(X25519_PUBTODER) == k.X25519Key(None, X25519_INTERNAL_P)


def test_cryptography_refuses_wolfcrypt_pair_shape() -> None:
    """The quirk that makes the hand-written DER reader necessary (version 0 + raw [1])."""
    for der in (X25519_KEYTODER, ED_KEYTODER):
        with pytest.raises(ValueError):
            serialization.load_der_private_key(der, password=None)


def test_x25519_import_clamps_and_accepts_rfc5958_forms() -> None:
    raw = bytes(range(32))
    pair = k.encode_okp_pair(k.OID_X25519, raw[::-1], None)  # unclamped scalar, no public key
    assert len(pair) == 48
    assert k.x25519_from_der(pair).private == k.x25519_clamp(raw)
    # version 1 with an RFC 5958 BIT STRING-style [1] (leading unused-bits octet) is read too
    rfc = h("3051020101300506032b656e04220420") + raw + h("812100") + raw
    assert k.x25519_from_der(rfc).public == raw[::-1]


def test_x25519_decode_errors() -> None:
    assert _rc(k.x25519_from_der, ED_KEYTODER) == ASN_PARSE_E  # Ed25519 OID
    assert _rc(k.x25519_from_der, X25519_KEYTODER[:40]) == ASN_PARSE_E
    assert _rc(k.x25519_from_der, ECC_KEYTODER) == ASN_PARSE_E
    bad_len = h("3030020100300506032b656e0424042200") + bytes(33)
    assert _rc(k.x25519_from_der, bad_len) == ASN_PARSE_E


# ------------------------------------------------------------------------------------------ Ed25519


def test_ed25519_sample_round_trips() -> None:
    key = k.ed25519_from_der(ED_KEYTODER)
    assert (key.seed, key.public) == (ED_SEED, ED_PUB)  # not reversed
    assert k.ed25519_public_of(ED_SEED) == ED_PUB
    assert k.ed25519_pair_der(ED_SEED, ED_PUB) == ED_KEYTODER
    assert k.ed25519_spki_der(ED_PUB) == ED_PUBTODER
    assert k.ed25519_from_der(ED_PUBTODER) == k.Ed25519Key(None, ED_PUB)


def test_ed25519_standard_pkcs8_gets_its_public_key_derived() -> None:
    priv = ed25519.Ed25519PrivateKey.generate()
    pkcs8 = priv.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key = k.ed25519_from_der(pkcs8)  # 48 bytes, no [1]
    assert key.seed == priv.private_bytes_raw()
    assert key.public == priv.public_key().public_bytes_raw()


def test_rsa_private_key_is_not_a_25519_key() -> None:
    priv = rsa.generate_private_key(65537, 1024)
    der = priv.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert _rc(k.ed25519_from_der, der) == ASN_PARSE_E
