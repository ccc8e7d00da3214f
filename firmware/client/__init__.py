"""The Python client library of the emulated HSM: wolfHSM's client API, friendly layer.

Users call methods with Python values; requests are encoded by the raw codecs of
:mod:`firmware.wire` (users never pack bytes), and wolfHSM return codes come back as typed
exceptions. The same code runs on the host (attached over TCP, TLS, a unix socket or POSIX shared
memory) and inside a Python app-core firmware (a :class:`MemTransport` over the mailbox blocks)::

    from firmware.client import Client, NotFound

    with Client.connect("tcp://127.0.0.1:23456", client_id=1) as hsm:
        hsm.echo(b"ping")
        hsm.nvm_add_object(0x14, b"data", label="cal")

See :mod:`firmware.client.client` for the API, :mod:`firmware.client.transport` for the links and
:mod:`firmware.client.errors` for the exceptions.
"""

from firmware.wire import ByteOrder, NvmFlags

from .client import DEFAULT_COMM_DATA_LEN, KEYID_GLOBAL, KEYID_WRAPPED, Client
from .errors import (
    Aborted,
    AccessDenied,
    BadArgs,
    BadResponse,
    BufferSizeError,
    CertVerifyError,
    HsmClientError,
    HsmError,
    HsmTimeout,
    HsmTransportError,
    Locked,
    NoHandler,
    NoSpace,
    NotBlank,
    NotFound,
    NotImplementedByServer,
    NotReady,
    NotVerified,
    RequestPending,
    SheError,
    UsageError,
    error_class,
    error_for,
    error_name,
)
from .transport import (
    MemTransport,
    ShmTransport,
    StreamTransport,
    TlsConfig,
    Transport,
    open_transport,
    parse_url,
)
from .types import (
    CommInitResult,
    CustomResult,
    KeyExport,
    KeyExportDma,
    NvmAvailable,
    NvmInitResult,
    NvmListEntry,
    NvmMetadata,
    ServerInfo,
    flag_names,
    parse_flags,
)

__all__ = [
    "Aborted",
    "AccessDenied",
    "BadArgs",
    "BadResponse",
    "BufferSizeError",
    "ByteOrder",
    "CertVerifyError",
    "Client",
    "CommInitResult",
    "CustomResult",
    "DEFAULT_COMM_DATA_LEN",
    "HsmClientError",
    "HsmError",
    "HsmTimeout",
    "HsmTransportError",
    "KEYID_GLOBAL",
    "KEYID_WRAPPED",
    "KeyExport",
    "KeyExportDma",
    "Locked",
    "MemTransport",
    "NoHandler",
    "NoSpace",
    "NotBlank",
    "NotFound",
    "NotImplementedByServer",
    "NotReady",
    "NotVerified",
    "NvmAvailable",
    "NvmFlags",
    "NvmInitResult",
    "NvmListEntry",
    "NvmMetadata",
    "RequestPending",
    "ServerInfo",
    "SheError",
    "ShmTransport",
    "StreamTransport",
    "TlsConfig",
    "Transport",
    "UsageError",
    "error_class",
    "error_for",
    "error_name",
    "flag_names",
    "open_transport",
    "parse_flags",
    "parse_url",
]
