"""`hsmemu client`: talk to a running emulator (or any wolfHSM v1.4.0 server) from the shell.

    hsmemu client --connect tcp://127.0.0.1:23456 echo hello
    hsmemu client --connect unix:///tmp/hsm.sock info
    hsmemu client --connect shm://wh_example_shm nvm add 0x14 cal.bin --label cal --flags nonmodifiable
    hsmemu client nvm read 0x14 --out cal.bin          # URL from $HSMEMU_CONNECT, else tcp://127.0.0.1:23456
    hsmemu client key cache aes.key --label k1         # prints the key id the server assigned
    hsmemu client counter inc 3
    hsmemu client rng 32 --hex
    hsmemu client sha 256 firmware.bin                  # the HSM hashes it, one 64-byte block per message
    hsmemu client aes cbc enc --key 000102...0f --iv 00...00 plain.bin cipher.bin
    hsmemu client cmac --key-id 0x21 firmware.bin
    hsmemu client ecc keygen --curve P-256 --out key.der
    hsmemu client ecc sign --key key.der firmware.bin --out sig.der
    hsmemu client ecc verify --key key.der --sig-file sig.der firmware.bin

Exit status: 0 done; 1 the HSM answered with an error (its wolfHSM name and code are printed);
2 bad usage, unreadable file or no connection. Errors are one line on stderr, never a traceback.
Wired into the main CLI by `emulator.cli` calling :func:`add_client_parser`; also runs alone as
``python -m emulator.cli_client ARGS``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

DEFAULT_URL = "tcp://127.0.0.1:23456"
ENV_URL = "HSMEMU_CONNECT"


class UsageProblem(Exception):
    """Bad input from the user: one line, exit status 2."""


def _one_line_error(parser: argparse.ArgumentParser) -> None:
    """argparse errors as one line (`hsmemu: error: ...`), exit 2."""

    def error(message: str) -> NoReturn:
        prog = parser.prog
        sys.stderr.write(f"hsmemu: error: {prog}: {message} (see {prog} --help)\n")
        sys.exit(2)

    parser.error = error  # type: ignore[method-assign]


def _int(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r} (decimal or 0x hex)") from None


def _flags(text: str) -> int:
    from firmware.client import parse_flags

    try:
        return parse_flags(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_client_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `client` (and its subcommands) on the main CLI's subparsers."""
    p = subparsers.add_parser(
        "client",
        help="talk to a running HSM as a wolfHSM client (echo, info, nvm, key, counter, rng, sha, aes, cmac, ecc)",
        description="A wolfHSM v1.4.0 client: send one request to a running emulator and print the answer.",
    )
    _one_line_error(p)
    p.add_argument(
        "--connect",
        metavar="URL",
        default=os.environ.get(ENV_URL, DEFAULT_URL),
        help=f"tcp://HOST:PORT, tls://HOST:PORT, unix:///PATH or shm://NAME (default ${ENV_URL} or {DEFAULT_URL})",
    )
    p.add_argument("--client-id", type=_int, default=1, metavar="N", help="wolfHSM client id (default 1)")
    p.add_argument("--tls-cert", metavar="PEM", help="client certificate for tls://")
    p.add_argument("--tls-key", metavar="PEM", help="client private key for tls://")
    p.add_argument("--tls-ca", metavar="FILE", help="CA that signed the server certificate (PEM or DER)")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S", help="seconds to wait for an answer")
    p.add_argument("--wait", type=float, default=0.0, metavar="S", help="seconds to retry while the server is not up")
    p.add_argument("--byte-order", choices=["little", "big"], default="little", help="byte order the client claims")
    sub = p.add_subparsers(dest="client_command", metavar="COMMAND", required=True)

    def cmd(parent: Any, name: str, help_text: str, fn: Any) -> argparse.ArgumentParser:
        q = parent.add_parser(name, help=help_text, description=help_text)
        _one_line_error(q)
        q.set_defaults(client_fn=fn)
        return q

    q = cmd(sub, "echo", "send TEXT, print what comes back", _echo)
    q.add_argument("text", metavar="TEXT")
    cmd(sub, "info", "print the server's configuration (COMM INFO)", _info)

    nvm = sub.add_parser("nvm", help="NVM objects: list, add, read, destroy, available")
    _one_line_error(nvm)
    nsub = nvm.add_subparsers(dest="nvm_command", metavar="ACTION", required=True)
    cmd(nsub, "list", "list the NVM objects with their metadata", _nvm_list)
    q = cmd(nsub, "add", "store FILE as NVM object ID (replacing it)", _nvm_add)
    q.add_argument("id", type=_int, metavar="ID")
    q.add_argument("file", metavar="FILE", help="data file ('-' = stdin)")
    q.add_argument("--label", default="", help="label, up to 24 bytes")
    q.add_argument("--flags", type=_flags, default=0, help="e.g. nonmodifiable,nonexportable or 0x5")
    q.add_argument("--access", type=_int, default=0, help="access field (stored, not enforced)")
    q = cmd(nsub, "read", "read NVM object ID (raw bytes to stdout, or --out FILE)", _nvm_read)
    q.add_argument("id", type=_int, metavar="ID")
    q.add_argument("--out", metavar="FILE", help="write the data to FILE")
    q.add_argument("--hex", action="store_true", help="print the data as hex")
    q.add_argument("--offset", type=_int, default=0)
    q.add_argument("--length", type=_int, default=None)
    q = cmd(nsub, "destroy", "destroy NVM objects", _nvm_destroy)
    q.add_argument("ids", type=_int, nargs="+", metavar="ID")
    cmd(nsub, "available", "free and reclaimable NVM space", _nvm_available)

    key = sub.add_parser("key", help="keystore: cache, export, erase, evict, commit, revoke")
    _one_line_error(key)
    ksub = key.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    q = cmd(ksub, "cache", "put the key in FILE into the server's key cache; prints its id", _key_cache)
    q.add_argument("file", metavar="FILE", help="key file ('-' = stdin)")
    q.add_argument("--id", type=_int, default=0, help="key id (default: the server picks one)")
    q.add_argument("--label", default="", help="label, up to 24 bytes")
    q.add_argument("--flags", type=_flags, default=0, help="e.g. usage_encrypt,nonexportable or 0x24")
    q = cmd(ksub, "export", "export key ID (raw bytes to stdout, or --out FILE)", _key_export)
    q.add_argument("id", type=_int, metavar="ID")
    q.add_argument("--out", metavar="FILE")
    q.add_argument("--hex", action="store_true", help="print the key as hex")
    for name, what in (
        ("erase", "evict key ID and destroy its NVM copy"),
        ("evict", "drop key ID from the cache"),
        ("commit", "write cached key ID to NVM"),
        ("revoke", "revoke key ID"),
    ):
        q = cmd(ksub, name, what, _key_simple)
        q.add_argument("id", type=_int, metavar="ID")

    counter = sub.add_parser("counter", help="monotonic counters: init, inc, read, destroy")
    _one_line_error(counter)
    csub = counter.add_subparsers(dest="counter_command", metavar="ACTION", required=True)
    q = cmd(csub, "init", "create or reset counter ID to VALUE (default 0); prints the value", _counter)
    q.add_argument("id", type=_int, metavar="ID")
    q.add_argument("value", type=_int, nargs="?", default=0, metavar="VALUE")
    for name, what in (
        ("inc", "increment counter ID; prints the new value"),
        ("read", "print the value of counter ID"),
        ("destroy", "destroy counter ID"),
    ):
        q = cmd(csub, name, what, _counter)
        q.add_argument("id", type=_int, metavar="ID")

    _add_crypto_parsers(sub, cmd)
    p.set_defaults(func=cmd_client)
    return p


def _hex(text: str) -> bytes:
    try:
        return bytes.fromhex(text.replace(":", "").replace(" ", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not hex: {text!r}") from None


def _add_crypto_parsers(sub: Any, cmd: Any) -> None:
    """rng, sha, aes, cmac, ecc: the crypto offload messages (firmware/client/crypto.py)."""
    q = cmd(sub, "rng", "N random bytes from the HSM (raw to stdout, --hex, or --out FILE)", _rng)
    q.add_argument("n", type=_int, metavar="N")
    q.add_argument("--hex", action="store_true", help="print the bytes as hex")
    q.add_argument("--out", metavar="FILE", help="write the bytes to FILE")

    q = cmd(sub, "sha", "SHA-2 digest of FILE computed by the HSM (prints `hex  FILE`)", _sha)
    q.add_argument("bits", choices=["224", "256", "384", "512"], metavar="{224,256,384,512}")
    q.add_argument("file", metavar="FILE", help="input file ('-' = stdin)")

    q = cmd(sub, "aes", "AES in the HSM: cbc/ecb/ctr/gcm, enc/dec, IN file to OUT file (or stdout)", _aes)
    q.add_argument("mode", choices=["cbc", "ecb", "ctr", "gcm"])
    q.add_argument("direction", choices=["enc", "dec"])
    _key_args(q, "AES key")
    q.add_argument("--iv", type=_hex, metavar="HEX", help="IV / initial counter block / GCM nonce, hex (cbc, ctr, gcm)")
    q.add_argument("--aad", type=_hex, metavar="HEX", default=b"", help="GCM additional authenticated data, hex")
    q.add_argument("--tag", type=_hex, metavar="HEX", help="GCM dec: the tag, hex (default: the last 16 bytes of IN)")
    q.add_argument("--pad", action="store_true", help="cbc/ecb: PKCS#7 padding (added on enc, removed on dec)")
    q.add_argument("--hex", action="store_true", help="print the output as hex instead of raw bytes")
    q.add_argument("input", metavar="IN", help="input file ('-' = stdin)")
    q.add_argument("output", metavar="OUT", nargs="?", help="output file (default stdout); gcm enc appends the tag")

    q = cmd(sub, "cmac", "AES-CMAC of FILE computed by the HSM (prints the tag as hex)", _cmac)
    _key_args(q, "AES key")
    q.add_argument("file", metavar="FILE", help="input file ('-' = stdin)")

    ecc = sub.add_parser("ecc", help="ECC in the HSM: keygen, sign, verify")
    _one_line_error(ecc)
    esub = ecc.add_subparsers(dest="ecc_command", metavar="ACTION", required=True)
    what = "generate an ECC key in the HSM: returned (PEM, or DER with --out) or --cache'd"
    q = cmd(esub, "keygen", what, _ecc_keygen)
    q.add_argument("--curve", default="P-256", help="P-256 (default), P-384 or P-521")
    q.add_argument("--out", metavar="FILE", help="write the private key (SEC1 DER) to FILE")
    q.add_argument("--cache", action="store_true", help="keep the key in the HSM; prints its id")
    q.add_argument("--commit", action="store_true", help="with --cache: also commit it to NVM (outlives the call)")
    q.add_argument("--id", type=_int, default=0, help="with --cache: key id (default: the server picks one)")
    q.add_argument("--label", default="", help="with --cache: label, up to 24 bytes")
    q.add_argument("--flags", type=_flags, default=None, help="with --cache: usage flags (default sign,verify,derive)")
    for name, what, fn in (
        ("sign", "ECDSA-sign FILE's hash (or --digest) with an HSM key; prints the DER signature as hex", _ecc_sign),
        ("verify", "verify an ECDSA signature in the HSM; exit 0 when valid, 1 when not", _ecc_verify),
    ):
        q = cmd(esub, name, what, fn)
        grp = q.add_mutually_exclusive_group(required=True)
        grp.add_argument("--key-id", type=_int, metavar="ID", help="a key in the HSM")
        grp.add_argument("--key", metavar="FILE", help="a key file (PEM or DER), imported for the call")
        q.add_argument("--hash", default="sha256", help="hash of FILE (computed on the host; default sha256)")
        q.add_argument("--digest", type=_hex, metavar="HEX", help="sign/verify this digest instead of hashing FILE")
        q.add_argument("file", metavar="FILE", nargs="?", help="message file ('-' = stdin)")
        if name == "sign":
            q.add_argument("--out", metavar="FILE", help="write the DER signature to FILE")
        else:
            sig = q.add_mutually_exclusive_group(required=True)
            sig.add_argument("--sig", type=_hex, metavar="HEX", help="the DER signature, hex")
            sig.add_argument("--sig-file", metavar="FILE", help="the DER signature file")


def _key_args(q: argparse.ArgumentParser, what: str) -> None:
    grp = q.add_mutually_exclusive_group(required=True)
    grp.add_argument("--key", type=_hex, metavar="HEX", help=f"{what}, hex (sent inline)")
    grp.add_argument("--key-id", type=_int, metavar="ID", help=f"{what} already in the HSM (its usage flags apply)")


# ------------------------------------------------------------------------------------ commands


def _read_input(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise UsageProblem(f"{path}: {e.strerror or e}") from None


def _emit(data: bytes, out: str | None, as_hex: bool, what: str) -> None:
    if out:
        try:
            Path(out).write_bytes(data)
        except OSError as e:
            raise UsageProblem(f"{out}: {e.strerror or e}") from None
        print(f"wrote {len(data)} bytes of {what} to {out}")
    elif as_hex:
        print(data.hex())
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


def _label_text(label: bytes) -> str:
    return label.split(b"\0", 1)[0].decode("utf-8", "replace")


def _echo(c: Any, a: argparse.Namespace) -> None:
    print(c.echo(a.text.encode("utf-8")).decode("utf-8", "replace"))


def _info(c: Any, a: argparse.Namespace) -> None:
    print(f"server id {c.server_id}, client id {c.client_id}: {c.info().summary()}")


def _nvm_list(c: Any, a: argparse.Namespace) -> None:
    from firmware.client import flag_names

    for oid in c.nvm_list():
        m = c.nvm_get_metadata(oid)
        names = ",".join(flag_names(m.flags)) or "none"
        print(
            f"0x{m.id:04x}  len {m.len:5}  access 0x{m.access:04x}  flags 0x{m.flags:04x} ({names})"
            f"  label {_label_text(m.label)!r}"
        )


def _nvm_add(c: Any, a: argparse.Namespace) -> None:
    data = _read_input(a.file)
    c.nvm_add_object(a.id, data, label=a.label, access=a.access, flags=a.flags)
    print(f"added NVM object 0x{a.id:04x} ({len(data)} bytes)")


def _nvm_read(c: Any, a: argparse.Namespace) -> None:
    data = c.nvm_read(a.id, a.offset, a.length)
    _emit(data, a.out, a.hex, f"NVM object 0x{a.id:04x}")


def _nvm_destroy(c: Any, a: argparse.Namespace) -> None:
    c.nvm_destroy(a.ids)
    print("destroyed " + " ".join(f"0x{i:04x}" for i in a.ids))


def _nvm_available(c: Any, a: argparse.Namespace) -> None:
    av = c.nvm_get_available()
    print(
        f"available: {av.avail_size} bytes, {av.avail_objects} objects; "
        f"reclaimable: {av.reclaim_size} bytes, {av.reclaim_objects} objects"
    )


def _key_cache(c: Any, a: argparse.Namespace) -> None:
    data = _read_input(a.file)
    kid = c.key_cache(data, label=a.label, flags=a.flags, key_id=a.id)
    print(f"cached key 0x{kid:04x} ({len(data)} bytes)")


def _key_export(c: Any, a: argparse.Namespace) -> None:
    label, data = c.key_export(a.id)
    _emit(data, a.out, a.hex, f"key 0x{a.id:04x} (label {_label_text(label)!r})")


def _key_simple(c: Any, a: argparse.Namespace) -> None:
    getattr(c, f"key_{a.key_command}")(a.id)
    done = {"erase": "erased", "evict": "evicted", "commit": "committed", "revoke": "revoked"}[a.key_command]
    print(f"{done} key 0x{a.id:04x}")


def _counter(c: Any, a: argparse.Namespace) -> None:
    op = a.counter_command
    if op == "init":
        print(c.counter_init(a.id, a.value))
    elif op == "inc":
        print(c.counter_increment(a.id))
    elif op == "read":
        print(c.counter_read(a.id))
    else:
        c.counter_destroy(a.id)
        print(f"destroyed counter {a.id}")


def _rng(c: Any, a: argparse.Namespace) -> None:
    if a.n < 0:
        raise UsageProblem("N must be >= 0")
    _emit(c.rng(a.n), a.out, a.hex, "random data")


def _sha(c: Any, a: argparse.Namespace) -> None:
    data = _read_input(a.file)
    print(f"{c.sha2('sha' + a.bits, data).hex()}  {a.file}")


def _key_of(a: argparse.Namespace) -> bytes | int:
    return a.key_id if a.key_id is not None else a.key


def _aes(c: Any, a: argparse.Namespace) -> None:
    data = _read_input(a.input)
    key = _key_of(a)
    enc = a.direction == "enc"
    if a.mode != "ecb" and a.iv is None:
        raise UsageProblem(f"aes {a.mode} needs --iv HEX")
    if a.mode in ("cbc", "ecb"):
        if a.pad and enc:
            n = 16 - len(data) % 16
            data += bytes([n]) * n
        if len(data) % 16:
            raise UsageProblem(f"{a.input}: {len(data)} bytes is not a whole number of 16-byte blocks (use --pad)")
        if a.mode == "cbc":
            out = (c.aes_cbc_encrypt if enc else c.aes_cbc_decrypt)(key, a.iv, data)
        else:
            out = (c.aes_ecb_encrypt if enc else c.aes_ecb_decrypt)(key, data)
        if a.pad and not enc:
            n = out[-1] if out else 0
            if not 1 <= n <= 16 or out[-n:] != bytes([n]) * n:
                raise UsageProblem("bad PKCS#7 padding after decryption (wrong key or IV?)")
            out = out[:-n]
    elif a.mode == "ctr":
        out = c.aes_ctr(key, a.iv, data)
    elif enc:
        ct, tag = c.aes_gcm_encrypt(key, a.iv, data, a.aad)
        out = ct + tag
    else:
        tag = a.tag
        if tag is None:
            if len(data) < 16:
                raise UsageProblem(f"{a.input}: too short to end with a 16-byte tag")
            data, tag = data[:-16], data[-16:]
        out = c.aes_gcm_decrypt(key, a.iv, data, tag, a.aad)
    _emit(out, a.output, a.hex, f"AES-{a.mode.upper()} {'ciphertext' if enc else 'plaintext'}")


def _cmac(c: Any, a: argparse.Namespace) -> None:
    print(c.cmac(_key_of(a), _read_input(a.file)).hex())


def _load_key_file(path: str) -> Any:
    from cryptography.hazmat.primitives import serialization as ser

    from firmware.client.crypto import load_key

    raw = _read_input(path)
    if b"-----BEGIN" in raw:
        try:
            return ser.load_pem_private_key(raw, password=None)
        except (ValueError, TypeError):
            try:
                return ser.load_pem_public_key(raw)
            except ValueError:
                raise UsageProblem(f"{path}: not a PEM key") from None
    try:
        return load_key(raw)
    except ValueError:
        raise UsageProblem(f"{path}: not a DER key") from None


def _ecc_keygen(c: Any, a: argparse.Namespace) -> None:
    if a.cache:
        kw: dict[str, Any] = {"key_id": a.id, "label": a.label}
        if a.flags is not None:
            kw["flags"] = a.flags
        kid = c.ecc_keygen_cache(a.curve, **kw)
        if a.commit:
            c.key_commit(kid)
        where = "committed to NVM" if a.commit else "cached for this connection only; --commit keeps it"
        print(f"key 0x{kid:04x} ({a.curve.upper()}, {where})")
        return
    der = c.ecc_keygen(a.curve)
    if a.out:
        _emit(der, a.out, False, f"{a.curve.upper()} private key (SEC1 DER)")
        return
    from cryptography.hazmat.primitives import serialization as ser

    from firmware.client.crypto import load_key

    key = load_key(der)
    pem = key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.TraditionalOpenSSL, ser.NoEncryption())
    sys.stdout.write(pem.decode("ascii"))


def _ecc_digest(a: argparse.Namespace) -> bytes:
    import hashlib

    if a.digest is not None:
        if a.file:
            raise UsageProblem("give FILE or --digest, not both")
        return a.digest
    if not a.file:
        raise UsageProblem("give a message FILE (or --digest HEX)")
    try:
        return hashlib.new(a.hash, _read_input(a.file)).digest()
    except ValueError:
        raise UsageProblem(f"unknown hash {a.hash!r}") from None


def _ecc_sign(c: Any, a: argparse.Namespace) -> None:
    key = a.key_id if a.key_id is not None else _load_key_file(a.key)
    sig = c.ecdsa_sign(key, _ecc_digest(a))
    if a.out:
        _emit(sig, a.out, False, "ECDSA signature (DER)")
    else:
        print(sig.hex())


class _Invalid(Exception):
    """A verification that completed with the answer "invalid": exit status 1."""


def _ecc_verify(c: Any, a: argparse.Namespace) -> None:
    key = a.key_id if a.key_id is not None else _load_key_file(a.key)
    sig = a.sig if a.sig is not None else _read_input(a.sig_file)
    if c.ecdsa_verify(key, _ecc_digest(a), sig):
        print("signature valid")
    else:
        print("signature INVALID")
        raise _Invalid


def _fail(message: str, status: int) -> int:
    print(f"hsmemu: error: {message}", file=sys.stderr)
    return status


def cmd_client(args: argparse.Namespace) -> int:
    """Run one `hsmemu client` command; returns the exit status."""
    from firmware.client import BadArgs, Client, HsmError, HsmTransportError, TlsConfig

    tls = None
    if args.tls_cert or args.tls_key or args.tls_ca:
        tls = TlsConfig(cert=args.tls_cert, key=args.tls_key, ca=args.tls_ca)
    client = None
    try:
        client = Client.connect(
            args.connect,
            client_id=args.client_id,
            tls=tls,
            order=args.byte_order,
            timeout=args.timeout,
            wait=args.wait,
        )
        args.client_fn(client, args)
        return 0
    except _Invalid:
        return 1
    except UsageProblem as e:
        return _fail(str(e), 2)
    except BadArgs as e:
        if e.local:
            return _fail(e.detail or str(e), 2)
        return _fail(str(e), 1)
    except HsmError as e:
        return _fail(str(e), 1)
    except HsmTransportError as e:
        return _fail(str(e), 2)
    except BrokenPipeError:
        return 1
    except OSError as e:
        return _fail(f"{e.filename + ': ' if e.filename else ''}{e.strerror or e}", 2)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    finally:
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001 - the answer is out; a failing goodbye does not matter
                pass


def main(argv: list[str] | None = None) -> int:
    """`python -m emulator.cli_client ARGS` = `hsmemu client ARGS`."""
    parser = argparse.ArgumentParser(prog="hsmemu")
    _one_line_error(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    add_client_parser(sub)
    args = parser.parse_args(["client", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
