"""Line transports: one command line out, reply lines back, nothing of any device's protocol.

The device drivers (`drivers/lasers/`) speak their protocol through a `LineTransport`, so the same
driver runs over a pyserial port (a name, or an already open port object) or a pyvisa resource.
Every failure becomes one of the contract's errors naming the device, the port and the command:
no answer within the timeout is `DeviceTimeout` (never a hang), a vanished port is `DeviceDisconnected`.
pyserial and pyvisa are imported only when a port or resource is opened here by name.
"""

from __future__ import annotations

import contextlib
import time
from abc import ABC, abstractmethod
from typing import Any, Protocol

from speckle_lab.drivers.errors import DeviceDisconnected, DeviceError, DeviceTimeout

try:  # pyserial's reset_input_buffer raises termios.error, not OSError, on a vanished POSIX port
    import termios

    _PORT_ERRORS: tuple[type[BaseException], ...] = (OSError, termios.error)
except ImportError:  # pragma: no cover - Windows
    _PORT_ERRORS = (OSError,)

#: How long one read of a serial port may block: bounds how far a timeout can overshoot.
POLL_S = 0.02

#: At most this many bytes are drained by a flush of a port without `reset_input_buffer`.
DRAIN_MAX_BYTES = 1 << 16


def _is_closed_port(error: BaseException) -> bool:
    """`ValueError: I/O operation on closed file` and its kin: the port was closed under the transport."""
    return isinstance(error, ValueError) and "closed" in str(error).lower()


class SerialPort(Protocol):
    """What the transport needs of a port: `read`, `write` and a settable `timeout`, nothing more.

    pyserial's `Serial` has more, and the transport uses it when present (`in_waiting` to read what is
    there in one call, `reset_input_buffer` to flush, `close` for a port it opened), but a port deriving
    from `serial.SerialBase` without them (other projects' doubles, some USB bridges) works as well.
    """

    timeout: float | None

    def write(self, data: bytes) -> int | None: ...

    def read(self, size: int = 1) -> bytes: ...


class LineTransport(ABC):
    """Sends command lines and reads reply lines, each read bounded by a timeout.

    `device` names the device in error messages; the driver refines it once it knows the identity.
    """

    def __init__(self, port_name: str, device: str, timeout_s: float) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        self.port_name = port_name
        self.device = device
        self.timeout_s = float(timeout_s)
        self.closed = False

    @property
    def label(self) -> str:
        """The device and its port, as errors name them."""
        return f"{self.device} on {self.port_name}"

    def query(self, command: str, timeout_s: float | None = None) -> str:
        """Flush stale replies, send `command` and return its first reply line."""
        self.flush(command)
        self.send(command)
        return self.read_line(command, timeout_s)

    @abstractmethod
    def send(self, command: str) -> None:
        """Write one command line (the terminator is added here)."""

    @abstractmethod
    def read_line(self, command: str, timeout_s: float | None = None) -> str:
        """The next non-empty reply line, without its terminator; `command` is named in errors."""

    @abstractmethod
    def flush(self, command: str = "flush") -> None:
        """Discard whatever the device sent that nobody asked for (late or extra replies)."""

    @abstractmethod
    def _release(self) -> None: ...

    def close(self) -> None:
        """Release the port (only if this transport opened it). Safe to call twice."""
        if not self.closed:
            self.closed = True
            self._release()

    def _check_open(self, command: str) -> None:
        if self.closed:
            raise DeviceDisconnected(self.label, command, "the connection is closed")

    def _timeout(self, command: str, timeout_s: float) -> DeviceTimeout:
        return DeviceTimeout(self.label, command, f"no answer within {timeout_s:g} s on {self.port_name}")

    def _gone(self, command: str, error: BaseException) -> DeviceDisconnected:
        return DeviceDisconnected(self.label, command, f"port {self.port_name} is gone: {error}")

    def _port_failure(self, command: str, error: Exception) -> DeviceError:
        """Any exception a port raised, as one of the contract's errors (no foreign exception leaks).

        A write that would not drain (pyserial's SerialTimeoutException) is a timeout; an OS error or an
        operation on a closed port means the port is gone; anything else is a device error naming the
        exception's type, so the operator still reads what the port said.
        """
        if isinstance(error, DeviceError):
            return error
        if "Timeout" in type(error).__name__:
            return DeviceTimeout(self.label, command, f"write timed out on {self.port_name}")
        if isinstance(error, _PORT_ERRORS) or _is_closed_port(error):
            return self._gone(command, error)
        return DeviceError(self.label, command, f"port {self.port_name} failed: {type(error).__name__}: {error}")


def open_serial_port(port_name: str, device: str, baudrate: int = 115200, timeout_s: float = 1.0) -> Any:
    """Open `port_name` 8N1 with pyserial (a device path, COMn, or a pyserial URL such as socket://)."""
    try:
        import serial  # lazy: the application runs without pyserial
    except ImportError as error:
        raise ImportError(f"{device} needs pyserial: pip install 'speckle-lab[serial]'") from error

    try:
        return serial.serial_for_url(
            port_name, baudrate=baudrate, bytesize=8, parity="N", stopbits=1, timeout=POLL_S, write_timeout=timeout_s
        )
    except (serial.SerialException, ValueError) as error:
        raise DeviceDisconnected(f"{device} on {port_name}", "open", f"cannot open {port_name}: {error}") from error


class SerialLineTransport(LineTransport):
    """Lines over a pyserial-compatible port, read in whatever pieces the port delivers.

    A port passed in open stays the caller's: `close` restores its read timeout and leaves it open.
    """

    def __init__(
        self,
        port: SerialPort,
        device: str,
        *,
        timeout_s: float = 1.0,
        eol_out: bytes = b"\r",
        owns_port: bool = False,
    ) -> None:
        port_name = str(getattr(port, "port", None) or getattr(port, "name", None) or type(port).__name__)
        super().__init__(port_name, device, timeout_s)
        self._port = port
        self._eol_out = eol_out
        self._owns_port = owns_port
        self._buffer = bytearray()
        for needed in ("read", "write"):
            if not callable(getattr(port, needed, None)):
                raise TypeError(f"{device}: port {port_name} has no {needed}(): expected a pyserial-compatible port")
        try:
            self._saved_timeout = port.timeout
            port.timeout = POLL_S  # short blocking reads: the deadline, not the port, decides when to give up
        except Exception as error:
            self.closed = True
            if owns_port:
                with contextlib.suppress(Exception):
                    _close_port(port)
            raise self._port_failure("open", error) from error

    def send(self, command: str) -> None:
        self._check_open(command)
        data = command.encode("ascii") + self._eol_out
        try:
            self._port.write(data)
        except Exception as error:
            raise self._port_failure(command, error) from error

    def read_line(self, command: str, timeout_s: float | None = None) -> str:
        self._check_open(command)
        timeout = self.timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout
        while True:
            line = self._pop_line()
            if line is not None:
                if line:
                    return line
                continue  # a blank line is no answer
            if time.monotonic() >= deadline:
                raise self._timeout(command, timeout)
            self._buffer += self._read_some(command)

    def flush(self, command: str = "flush") -> None:
        self._check_open(command)
        self._buffer.clear()
        reset = getattr(self._port, "reset_input_buffer", None)
        try:
            if callable(reset):
                reset()
                return
            drained = 0  # no reset: read until one short read comes back empty (costs one POLL_S)
            while drained < DRAIN_MAX_BYTES:
                data = self._port.read(self._waiting() or 4096)
                if not data:
                    return
                drained += len(data)
        except Exception as error:
            raise self._port_failure(command, error) from error

    def _pop_line(self) -> str | None:
        end = self._buffer.find(b"\n")
        if end < 0:
            return None
        raw = bytes(self._buffer[:end])
        del self._buffer[: end + 1]
        return raw.decode("ascii", errors="replace").strip()

    def _waiting(self) -> int:
        """Bytes the port says are waiting; 0 when it cannot say (no `in_waiting`, as on `SerialBase`)."""
        waiting = getattr(self._port, "in_waiting", None)
        return waiting if isinstance(waiting, int) and waiting > 0 else 0

    def _read_some(self, command: str) -> bytes:
        try:
            data = self._port.read(self._waiting() or 1)
        except Exception as error:
            raise self._port_failure(command, error) from error
        return bytes(data) if data else b""

    def _release(self) -> None:
        """Close a port this transport opened, else give the caller's port its timeout back; never raises."""
        with contextlib.suppress(Exception):  # a vanished or foreign port is released as far as it lets us
            if self._owns_port:
                _close_port(self._port)
            else:
                self._port.timeout = self._saved_timeout


def _close_port(port: SerialPort) -> None:
    """`close()` where the port has one (a port opened here by name always has: pyserial's)."""
    close = getattr(port, "close", None)
    if callable(close):
        close()


def open_visa_resource(
    resource_name: str, device: str, visa_backend: str = "", baudrate: int | None = 115200, timeout_s: float = 1.0
) -> Any:
    """Open a pyvisa message resource with `\\r\\n` terminations; `visa_backend` is e.g. "@py" or "file.yaml@sim"."""
    try:
        import pyvisa  # lazy: the application runs without pyvisa
    except ImportError as error:
        raise ImportError(f"{device} needs pyvisa: pip install 'speckle-lab[visa]'") from error

    try:
        manager = pyvisa.ResourceManager(visa_backend)
        resource = manager.open_resource(
            resource_name, read_termination="\r\n", write_termination="\r\n", timeout=int(timeout_s * 1000)
        )
    except (pyvisa.errors.Error, OSError, ValueError) as error:
        raise DeviceDisconnected(
            f"{device} on {resource_name}", "open", f"cannot open {resource_name}: {error}"
        ) from error
    if baudrate is not None and hasattr(resource, "baud_rate"):
        with contextlib.suppress(pyvisa.errors.Error, NotImplementedError):  # USB-CDC, simulated: no baud rate
            resource.baud_rate = baudrate
    return resource


class VisaLineTransport(LineTransport):
    """Lines over a pyvisa message resource (its own terminations strip the line ends).

    A resource passed in open stays the caller's: `close` leaves it open.
    """

    def __init__(self, resource: Any, device: str, *, timeout_s: float = 1.0, owns_resource: bool = False) -> None:
        super().__init__(str(resource.resource_name), device, timeout_s)
        self._resource = resource
        self._owns = owns_resource
        self._can_flush = True  # pyvisa-sim and some backends have no viFlush: drain instead

    def send(self, command: str) -> None:
        self._check_open(command)
        try:
            self._resource.write(command)
        except Exception as error:
            raise self._translate(command, error, self.timeout_s) from error

    def read_line(self, command: str, timeout_s: float | None = None) -> str:
        self._check_open(command)
        timeout = self.timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._timeout(command, timeout)
            try:
                self._resource.timeout = max(1, int(remaining * 1000))
                line = self._resource.read().strip()
            except Exception as error:
                raise self._translate(command, error, timeout) from error
            if line:
                return line

    def flush(self, command: str = "flush") -> None:
        self._check_open(command)
        from pyvisa import constants

        if self._can_flush:
            try:
                self._resource.flush(constants.BufferOperation.discard_read_buffer)
                return
            except NotImplementedError:
                self._can_flush = False
            except Exception as error:
                if not _is_unsupported(error):
                    raise self._translate(command, error, self.timeout_s) from error
                self._can_flush = False
        self._drain(command)

    def _drain(self, command: str, max_lines: int = 100) -> None:
        """Read lines with a tiny timeout until none come: the flush of backends without viFlush."""
        for _ in range(max_lines):
            try:
                self._resource.timeout = 1
                self._resource.read()
            except Exception as error:
                if _is_visa_timeout(error):
                    return
                raise self._translate(command, error, self.timeout_s) from error

    def _translate(self, command: str, error: Exception, timeout_s: float) -> DeviceError:
        if _is_visa_timeout(error):
            return self._timeout(command, timeout_s)
        if isinstance(error, _PORT_ERRORS) or _is_gone(error):
            return self._gone(command, error)
        return DeviceError(self.label, command, f"VISA error: {error}")

    def _release(self) -> None:
        if self._owns:
            with contextlib.suppress(Exception):  # a vanished resource is released already
                self._resource.close()


def _visa_code(error: BaseException) -> Any:
    return getattr(error, "error_code", None)


def _is_visa_timeout(error: BaseException) -> bool:
    from pyvisa import constants

    return _visa_code(error) == constants.StatusCode.error_timeout


def _is_unsupported(error: BaseException) -> bool:
    from pyvisa import constants

    return _visa_code(error) in (
        constants.StatusCode.error_nonsupported_operation,
        constants.StatusCode.error_nonsupported_attribute,
    )


def _is_gone(error: BaseException) -> bool:
    from pyvisa import constants, errors

    if isinstance(error, errors.InvalidSession):
        return True
    return _visa_code(error) in (
        constants.StatusCode.error_connection_lost,
        constants.StatusCode.error_invalid_object,
        constants.StatusCode.error_resource_not_found,
        constants.StatusCode.error_io,
        constants.StatusCode.error_closing_failed,
    )
