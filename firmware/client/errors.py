"""Exceptions of the client library.

Two families:

* :class:`HsmError` -- the HSM (or the client library acting for it, as wolfHSM's C client does)
  answered with a wolfHSM return code. Each code has its own subclass (``NotFound``,
  ``AccessDenied``, ``NoSpace``, ``BadArgs``, ``UsageError``...), built by :func:`error_for`, and
  every instance carries ``.rc`` (the signed code) and ``.name`` (``"NOTFOUND"``...). Codes the
  table does not know (e.g. wolfCrypt codes passed through in keystore ``rc`` fields) give a plain
  :class:`HsmError`. ``.local`` is True when the client refused the call before sending anything.
* :class:`HsmTransportError` -- the link failed (connection refused or lost, timeout, malformed
  framing). The client cannot continue the exchange on that link.

A response that breaks the protocol (wrong magic, kind or sequence number, wrong size) is
reported as :class:`BadResponse`, an :class:`Aborted`, because that is what the C client returns
(``WH_ERROR_ABORTED``). ``BadResponse.empty`` is True when the server sent an empty payload where
a structure was due -- what a server answers for a group it does not implement.
"""

from __future__ import annotations

from firmware.wire import WcError, WhError


class HsmClientError(Exception):
    """Base of every exception raised by :mod:`firmware.client`."""


class HsmTransportError(HsmClientError, OSError):
    """The transport failed: no server, connection lost, bad framing. Not a wolfHSM code."""


class HsmTimeout(HsmTransportError, TimeoutError):
    """No response within the timeout. The request stays outstanding: ``recv_*`` may be retried."""


class HsmError(HsmClientError):
    """A wolfHSM return code. ``rc`` is the signed code, ``name`` its wolfHSM name."""

    code: int | None = None  # set on the per-code subclasses

    def __init__(self, rc: int | str | None = None, message: str = "", *, local: bool = False) -> None:
        if isinstance(rc, str):  # NotFound("no such object"): the class knows its code
            rc, message = None, rc
        if rc is None:
            if self.code is None:
                raise TypeError(f"{type(self).__name__} needs an rc")
            rc = self.code
        self.rc = int(rc)
        self.name = error_name(self.rc)
        self.local = local
        self.detail = message
        text = f"{self.name} ({self.rc})"
        super().__init__(f"{message}: {text}" if message else text)

    def __reduce__(self):  # keep pickling (multiprocessing, pytest-xdist) working
        return (_rebuild, (self.rc, self.detail, self.local))


def _rebuild(rc: int, message: str, local: bool) -> HsmError:
    return error_for(rc, message, local=local)


def error_name(rc: int) -> str:
    """``"NOTFOUND"`` for -2104, ``"AES_GCM_AUTH_E"`` for a known wolfCrypt code, else ``"rc -N"``."""
    for table in (WhError, WcError):
        try:
            return table(rc).name
        except ValueError:
            pass
    return f"rc {rc}"


_BY_CODE: dict[int, type[HsmError]] = {}


def _code(rc: WhError):
    def deco(cls: type[HsmError]) -> type[HsmError]:
        cls.code = int(rc)
        _BY_CODE[int(rc)] = cls
        return cls

    return deco


@_code(WhError.BADARGS)
class BadArgs(HsmError, ValueError):
    """WH_ERROR_BADARGS: bad arguments (raised locally for calls the C client refuses too)."""


@_code(WhError.NOTREADY)
class NotReady(HsmError):
    """WH_ERROR_NOTREADY: no response yet (a non-blocking ``recv_*``), or the transport is busy."""


@_code(WhError.ABORTED)
class Aborted(HsmError):
    """WH_ERROR_ABORTED: the operation was aborted (also: a malformed response, see BadResponse)."""


@_code(WhError.CERT_VERIFY)
class CertVerifyError(HsmError):
    """WH_ERROR_CERT_VERIFY."""


@_code(WhError.BUFFER_SIZE)
class BufferSizeError(HsmError):
    """WH_ERROR_BUFFER_SIZE: a buffer is too small."""


@_code(WhError.NOHANDLER)
class NoHandler(HsmError):
    """WH_ERROR_NOHANDLER: no handler (e.g. no custom callback registered at that index)."""


@_code(WhError.NOTIMPL)
class NotImplementedByServer(HsmError):
    """WH_ERROR_NOTIMPL."""


@_code(WhError.USAGE)
class UsageError(HsmError):
    """WH_ERROR_USAGE: the key's usage flags do not allow the operation."""


@_code(WhError.TIMEOUT)
class TimeoutCode(HsmError):
    """WH_ERROR_TIMEOUT (HEAD only; a v1.4.0 server never sends it)."""


@_code(WhError.REQUEST_PENDING)
class RequestPending(HsmError):
    """WH_ERROR_REQUEST_PENDING: a request is already outstanding on this client (local)."""


@_code(WhError.LOCKED)
class Locked(HsmError):
    """WH_ERROR_LOCKED."""


@_code(WhError.ACCESS)
class AccessDenied(HsmError, PermissionError):
    """WH_ERROR_ACCESS: refused by the object's or key's policy flags."""


@_code(WhError.NOTVERIFIED)
class NotVerified(HsmError):
    """WH_ERROR_NOTVERIFIED."""


@_code(WhError.NOTBLANK)
class NotBlank(HsmError):
    """WH_ERROR_NOTBLANK."""


@_code(WhError.NOTFOUND)
class NotFound(HsmError, LookupError):
    """WH_ERROR_NOTFOUND: no such object, key or counter."""


@_code(WhError.NOSPACE)
class NoSpace(HsmError):
    """WH_ERROR_NOSPACE: out of NVM space or object slots, or no free key-cache slot."""


class SheError(HsmError):
    """Base of the SHE error codes (-2200 .. -2211)."""


def _she(rc: WhError, doc: str) -> type[HsmError]:
    name = "She" + "".join(part.capitalize() for part in rc.name.removeprefix("SHE_ERC_").split("_"))
    cls = type(name, (SheError,), {"__doc__": doc, "__module__": __name__})
    return _code(rc)(cls)


SheSequenceError = _she(WhError.SHE_ERC_SEQUENCE_ERROR, "SHE ERC_SEQUENCE_ERROR.")
SheKeyNotAvailable = _she(WhError.SHE_ERC_KEY_NOT_AVAILABLE, "SHE ERC_KEY_NOT_AVAILABLE.")
SheKeyInvalid = _she(WhError.SHE_ERC_KEY_INVALID, "SHE ERC_KEY_INVALID.")
SheKeyEmpty = _she(WhError.SHE_ERC_KEY_EMPTY, "SHE ERC_KEY_EMPTY.")
SheNoSecureBoot = _she(WhError.SHE_ERC_NO_SECURE_BOOT, "SHE ERC_NO_SECURE_BOOT.")
SheWriteProtected = _she(WhError.SHE_ERC_WRITE_PROTECTED, "SHE ERC_WRITE_PROTECTED.")
SheKeyUpdateError = _she(WhError.SHE_ERC_KEY_UPDATE_ERROR, "SHE ERC_KEY_UPDATE_ERROR.")
SheRngSeed = _she(WhError.SHE_ERC_RNG_SEED, "SHE ERC_RNG_SEED.")
SheNoDebugging = _she(WhError.SHE_ERC_NO_DEBUGGING, "SHE ERC_NO_DEBUGGING.")
SheBusy = _she(WhError.SHE_ERC_BUSY, "SHE ERC_BUSY.")
SheMemoryFailure = _she(WhError.SHE_ERC_MEMORY_FAILURE, "SHE ERC_MEMORY_FAILURE.")
SheGeneralError = _she(WhError.SHE_ERC_GENERAL_ERROR, "SHE ERC_GENERAL_ERROR.")


class AuthError(HsmError):
    """Base of the AUTH codes (HEAD only; a v1.4.0 server never sends them)."""


AuthLoginFailed = _code(WhError.AUTH_LOGIN_FAILED)(
    type("AuthLoginFailed", (AuthError,), {"__doc__": "WH_AUTH_LOGIN_FAILED.", "__module__": __name__})
)
AuthPermissionError = _code(WhError.AUTH_PERMISSION_ERROR)(
    type("AuthPermissionError", (AuthError,), {"__doc__": "WH_AUTH_PERMISSION_ERROR.", "__module__": __name__})
)
AuthNotEnabled = _code(WhError.AUTH_NOT_ENABLED)(
    type("AuthNotEnabled", (AuthError,), {"__doc__": "WH_AUTH_NOT_ENABLED.", "__module__": __name__})
)


class BadResponse(Aborted):
    """The response broke the protocol (magic, kind, sequence number or size); rc is ABORTED.

    ``kind`` is the request kind, ``payload`` the response payload received, ``empty`` True when a
    well-formed response came with an empty payload where a structure was due: what a server
    answers for a message group it does not implement.
    """

    def __init__(self, message: str, *, kind: int = 0, payload: bytes = b"", empty: bool = False) -> None:
        super().__init__(WhError.ABORTED, message)
        self.kind = kind
        self.payload = bytes(payload)
        self.empty = empty

    def __reduce__(self):
        return (BadResponse, (self.detail,), {"kind": self.kind, "payload": self.payload, "empty": self.empty})

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)


def error_class(rc: int) -> type[HsmError]:
    """The exception class of a wolfHSM code (``HsmError`` for codes without their own class)."""
    return _BY_CODE.get(int(rc), HsmError)


def error_for(rc: int, message: str = "", *, local: bool = False) -> HsmError:
    """An exception instance for ``rc``: ``error_for(-2104)`` is a :class:`NotFound`."""
    cls = error_class(rc)
    return cls(int(rc), message, local=local)


def check_rc(rc: int, message: str = "") -> None:
    """Raise :func:`error_for` ``(rc)`` unless rc is 0."""
    if rc:
        raise error_for(rc, message)


__all__ = [
    "AccessDenied",
    "Aborted",
    "AuthError",
    "AuthLoginFailed",
    "AuthNotEnabled",
    "AuthPermissionError",
    "BadArgs",
    "BadResponse",
    "BufferSizeError",
    "CertVerifyError",
    "HsmClientError",
    "HsmError",
    "HsmTimeout",
    "HsmTransportError",
    "Locked",
    "NoHandler",
    "NoSpace",
    "NotBlank",
    "NotFound",
    "NotImplementedByServer",
    "NotReady",
    "NotVerified",
    "RequestPending",
    "SheBusy",
    "SheError",
    "SheGeneralError",
    "SheKeyEmpty",
    "SheKeyInvalid",
    "SheKeyNotAvailable",
    "SheKeyUpdateError",
    "SheMemoryFailure",
    "SheNoDebugging",
    "SheNoSecureBoot",
    "SheRngSeed",
    "SheSequenceError",
    "SheWriteProtected",
    "TimeoutCode",
    "UsageError",
    "check_rc",
    "error_class",
    "error_for",
    "error_name",
]
