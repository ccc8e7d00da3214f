"""pytest fixtures for testing HSM client code against the emulator (pytest plugin ``hsmemu``).

Fixtures:

* ``hsm_board`` -- a board booted in this process with the wolfHSM server firmware and a TCP
  listener on a free 127.0.0.1 port; the SoC kernel runs in a background thread and is stopped at
  teardown. The app cores first run their firmware until every core sleeps (bounded by 1 s of
  virtual time), then clients may attach, so boot-time activity does not race with the test.
  ``.url`` is where to connect, ``.connect(client_id=1)`` gives a :class:`Client`.
  While it runs, only the kernel thread may touch the SoC (``.soc``): use ``with board.paused()
  as soc:`` (or inspect it after ``.stop()``).
* ``hsm_process`` -- ``python -m emulator.cli run --board B --listen tcp://127.0.0.1:0`` as a
  subprocess (the real command line), ready once it printed ``listening on``; interrupted at
  teardown. Same ``.url`` / ``.connect()``; ``.output`` holds what it printed.
* ``hsm_client`` -- a connected client (COMM INIT done, client id ``hsm_client_id``, default 1)
  to the in-process board, or to the subprocess when the test is marked ``@pytest.mark.hsm_process``
  or parametrizes ``hsm_target`` with ``"process"`` (``indirect=True``). Closed at teardown.
* ``hsm_board_name`` -- the board profile: ``--hsm-board NAME`` on the command line, else
  ``aurix-tc3xx``; override the fixture in a conftest or test module to pin another board.

The context managers :func:`running_board` and :func:`running_process` do the same outside
fixtures (e.g. with other listeners: ``running_board("spc58nn", listen=["shm://name"])``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

HSM_FIRMWARE = "firmware.hsm.firmware:HsmFirmware"
DEFAULT_BOARD = "aurix-tc3xx"
REPO_ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT = 60.0  # seconds for a subprocess to print `listening on`
STOP_TIMEOUT = 10.0


# ------------------------------------------------------------------------------------ in process


class HsmBoard:
    """A board running in a background thread of this process, serving attached clients.

    One kernel thread owns the SoC for the board's whole life (the HSM core's greenlet is bound to
    the thread that started it): it boots the board, runs the app cores until they all sleep
    (``settle_ns`` of virtual time at most), parks while the listeners are opened, then runs the
    kernel until :meth:`stop`. :meth:`paused` parks it again so the test thread may use the SoC.
    """

    def __init__(
        self,
        board_name: str,
        listen: Sequence[str] = ("tcp://127.0.0.1:0",),
        *,
        firmware: dict[str, str] | None = None,
        tls: dict[str, str] | None = None,
        quantum: int | None = None,
        settle_ns: int | None = 2_000_000_000,
        timeout: float = STOP_TIMEOUT,
    ) -> None:
        from .bridge import HostBridge
        from .soc import Soc
        from .trace import Trace

        self.board_name = board_name
        self.console: list[tuple[str, str]] = []
        self.logs: list[str] = []
        self.error: BaseException | None = None
        self.bridge: Any = None
        self.urls: list[str] = []
        fw = {"hsm": HSM_FIRMWARE, **(firmware or {})}
        self.soc = Soc(board_name, firmware=fw, quantum=quantum, trace=Trace("off"), console=self._console)
        self._settle_ns = settle_ns
        self._want_park = True  # boot, settle, then wait for the listeners
        self._closing = False
        self._parked = threading.Event()
        self._resume = threading.Event()
        self._thread = threading.Thread(target=self._main, name=f"hsmemu-{board_name}", daemon=True)
        self._thread.start()
        try:
            self._park(timeout + 60.0, interrupt=False)
            self.bridge = HostBridge(self.soc, log=self.logs.append)
            self.urls = [self.bridge.listen(url, tls) for url in listen]
        except BaseException:
            self.stop()
            raise
        self.url = self.urls[0]
        self._unpark()

    def _console(self, source: str, text: str) -> None:
        self.console.append((source, text))

    def _main(self) -> None:
        soc = self.soc
        try:
            if self._settle_ns:
                # let the app cores' firmware run to its first sleep before clients attach, so what
                # they do at boot (e.g. the demos' NVM objects) does not race with the test
                soc.run_until_idle(limit_ns=self._settle_ns)
            else:
                soc.power_on()
            while not self._closing:
                if self._want_park:
                    self._parked.set()
                    self._resume.wait()
                    self._resume.clear()
                    self._parked.clear()
                    continue
                soc.run_for(soc.timebase.ns(50_000_000))
        except BaseException as e:  # noqa: BLE001 - reported by the fixture
            self.error = e
        finally:
            self._parked.set()

    def _park(self, timeout: float, interrupt: bool = True) -> None:
        """Have the kernel thread stop at its next quantum boundary or idle wait, and wait for it.
        ``interrupt=False`` waits for it to get there by itself (the boot-time settling)."""
        self._want_park = True
        deadline = time.monotonic() + timeout
        while not self._parked.wait(0.02):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {self.board_name} kernel thread did not stop within {timeout} s")
            if interrupt:
                self.soc.kernel.request_stop("test fixture")
            if self.bridge is not None:
                self.bridge.wakeup.set()
        if self.error is not None:
            raise RuntimeError(f"the {self.board_name} kernel thread failed: {self.error!r}") from self.error

    def _unpark(self) -> None:
        self._want_park = False
        self._resume.set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._want_park

    @contextlib.contextmanager
    def paused(self, timeout: float = STOP_TIMEOUT) -> Iterator[Any]:
        """Hold the kernel so the test thread may use the SoC (e.g. put data in RAM for a DMA
        request); yields the Soc. Attached clients' requests wait until the block ends."""
        if self._closing:
            yield self.soc
            return
        self._park(timeout)
        try:
            yield self.soc
        finally:
            self._unpark()

    def connect(self, client_id: int = 1, url: str | None = None, **kw: Any) -> Any:
        from firmware.client import Client

        kw.setdefault("wait", 5.0)
        return Client.connect(url or self.url, client_id, **kw)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop the kernel thread and the listeners. Safe to call twice."""
        if self._closing:
            return
        self._closing = True
        try:
            if self._thread.is_alive():
                try:
                    self._park(timeout)
                except RuntimeError:
                    if self._thread.is_alive():
                        raise
            self._resume.set()
            self._thread.join(timeout)
        finally:
            if self.bridge is not None:
                self.bridge.shutdown()
                for url in self.urls:
                    _unblock_accept(url)
            self.soc.close()

    def __repr__(self) -> str:
        return f"<HsmBoard {self.board_name} {self.urls}>"


def _unblock_accept(url: str) -> None:
    """Wake the bridge's accept() so its listener thread sees the shutdown and ends."""
    try:
        if url.startswith(("tcp://", "tls://")):
            host, port = url.split("://", 1)[1].rsplit(":", 1)
            with socket.create_connection((host, int(port)), timeout=0.5):
                pass
        elif url.startswith("unix://"):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(0.5)
                s.connect(url[len("unix://") :])
    except OSError:
        pass


@contextlib.contextmanager
def running_board(board_name: str = DEFAULT_BOARD, listen: Sequence[str] = ("tcp://127.0.0.1:0",), **kw: Any):
    """An :class:`HsmBoard` for the duration of a ``with`` block."""
    board = HsmBoard(board_name, listen, **kw)
    try:
        yield board
    finally:
        board.stop()
        if board.error is not None:
            raise RuntimeError(f"the {board_name} kernel thread failed: {board.error!r}") from board.error


# ------------------------------------------------------------------------------------ subprocess


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class HsmProcess:
    """``hsmemu run`` in a subprocess, with its merged output collected in ``.output``."""

    def __init__(
        self,
        board_name: str,
        listen: str | Sequence[str] = "tcp://127.0.0.1:0",
        extra_args: Sequence[str] = (),
        ready_timeout: float = READY_TIMEOUT,
    ) -> None:
        self.board_name = board_name
        self.output: list[str] = []
        self._ready = threading.Event()
        self.urls: list[str] = []
        listen = [listen] if isinstance(listen, str) else list(listen)
        self._expect = len(listen)
        self.proc = self._start(listen, extra_args)
        self._wait_ready(ready_timeout)
        if any(u.startswith("tcp://") and u.rsplit(":", 1)[-1] == "0" for u in self.urls):
            # port 0 not printed back usefully: pick free ports ourselves and start again
            self.stop()
            listen = [f"tcp://127.0.0.1:{free_port()}" if u.startswith("tcp://") else u for u in listen]
            self.output.clear()
            self._ready.clear()
            self.urls.clear()
            self.proc = self._start(listen, extra_args)
            self._wait_ready(ready_timeout)

    def _start(self, listen: Sequence[str], extra_args: Sequence[str]) -> subprocess.Popen:
        cmd = [sys.executable, "-m", "emulator.cli", "run", "--board", self.board_name]
        for url in listen:
            cmd += ["--listen", url]
        cmd += ["--firmware", f"hsm={HSM_FIRMWARE}", *extra_args]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])])
        env["PYTHONUNBUFFERED"] = "1"
        proc = subprocess.Popen(
            cmd,
            cwd=str(REPO_ROOT),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        threading.Thread(target=self._drain, args=(proc,), daemon=True).start()
        return proc

    def _drain(self, proc: subprocess.Popen) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            self.output.append(line)
            if line.startswith("listening on "):
                self.urls.append(line[len("listening on ") :].strip())
                if len(self.urls) >= self._expect:
                    self._ready.set()
        self._ready.set()  # the process ended (or closed its output): stop waiting

    def _wait_ready(self, timeout: float) -> None:
        if not self._ready.wait(timeout) or len(self.urls) < self._expect:
            self.stop()
            tail = "\n".join(self.output[-20:])
            raise RuntimeError(f"hsmemu run --board {self.board_name} did not start listening:\n{tail}")

    @property
    def url(self) -> str:
        return self.urls[0]

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def connect(self, client_id: int = 1, url: str | None = None, **kw: Any) -> Any:
        from firmware.client import Client

        kw.setdefault("wait", 5.0)
        return Client.connect(url or self.url, client_id, **kw)

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """Ctrl-C (the CLI then prints its summary), then terminate, then kill."""
        proc = self.proc
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout / 2)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(timeout / 2)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if proc.stdout is not None:
            with contextlib.suppress(OSError):
                proc.stdout.close()
        return proc.returncode

    def __repr__(self) -> str:
        return f"<HsmProcess {self.board_name} pid {self.proc.pid} {self.urls}>"


@contextlib.contextmanager
def running_process(board_name: str = DEFAULT_BOARD, listen: str | Sequence[str] = "tcp://127.0.0.1:0", **kw: Any):
    """An :class:`HsmProcess` for the duration of a ``with`` block."""
    proc = HsmProcess(board_name, listen, **kw)
    try:
        yield proc
    finally:
        proc.stop()


# ------------------------------------------------------------------------------------ pytest hooks


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("hsmemu", "HSM emulator fixtures")
    group.addoption(
        "--hsm-board",
        metavar="NAME",
        default=None,
        help=f"board profile for the hsm_board / hsm_process fixtures (default {DEFAULT_BOARD})",
    )


def pytest_configure(config: Any) -> None:
    config.addinivalue_line(
        "markers", "hsm_process: hsm_client talks to a `hsmemu run` subprocess instead of an in-process board"
    )


# ------------------------------------------------------------------------------------ fixtures


@pytest.fixture
def hsm_board_name(request: Any) -> str:
    """Board profile of the HSM fixtures: ``--hsm-board``, else aurix-tc3xx. Override to pin one."""
    return request.config.getoption("--hsm-board", default=None) or DEFAULT_BOARD


@pytest.fixture
def hsm_board(hsm_board_name: str) -> Iterator[HsmBoard]:
    """A board booted in-process with a TCP listener on a free port (see :class:`HsmBoard`)."""
    with running_board(hsm_board_name) as board:
        yield board


@pytest.fixture
def hsm_process(hsm_board_name: str) -> Iterator[HsmProcess]:
    """``hsmemu run`` as a subprocess listening on a free TCP port (see :class:`HsmProcess`)."""
    with running_process(hsm_board_name) as proc:
        yield proc


@pytest.fixture
def hsm_target(request: Any) -> str:
    """Where ``hsm_client`` connects: "board" (in-process, default) or "process"."""
    param = getattr(request, "param", None)
    if param is not None:
        return str(param)
    if request.node.get_closest_marker("hsm_process") is not None:
        return "process"
    return "board"


@pytest.fixture
def hsm_client_id() -> int:
    """Client id ``hsm_client`` announces in COMM INIT. Override for another id."""
    return 1


@pytest.fixture
def hsm_client(request: Any, hsm_target: str, hsm_client_id: int) -> Iterator[Any]:
    """A :class:`firmware.client.Client`, connected and COMM-initialised."""
    if hsm_target not in ("board", "process"):
        raise pytest.UsageError(f"hsm_target must be 'board' or 'process', not {hsm_target!r}")
    server = request.getfixturevalue("hsm_process" if hsm_target == "process" else "hsm_board")
    client = server.connect(client_id=hsm_client_id)
    try:
        yield client
    finally:
        with contextlib.suppress(Exception):
            client.close()


__all__ = [
    "DEFAULT_BOARD",
    "HSM_FIRMWARE",
    "HsmBoard",
    "HsmProcess",
    "free_port",
    "hsm_board",
    "hsm_board_name",
    "hsm_client",
    "hsm_client_id",
    "hsm_process",
    "hsm_target",
    "running_board",
    "running_process",
]
