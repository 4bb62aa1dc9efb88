"""The grammar of the values in a line laser's replies: a reply is exactly what the vendor documents, or an error.

A value is never fished out of a longer line ("the first number in the reply"): line noise with a digit in it (a
wrong baud rate, a failing cable: `~#3$%&k`) would read as 3 h or 3 W, and a power read-back during emission would
be a silent wrong number instead of a failure that switches the laser off. Each parser takes the whole reply (the
transport has stripped the line end and the blanks around it) and raises `DeviceError(device, command, ...)`
naming the reply (repr) when it is anything else. The forms, per command, are listed in docs/drivers.md
("Replies").
"""

from __future__ import annotations

import math
import re

from speckle_lab.drivers.errors import DeviceError

#: A decimal number, optionally with an exponent: "0.0500", "1234.50", "5.00000E-02", "-0.0001", "100", ".5".
#: Not "5.0E" (a cut line), "1_000", "0x10", "inf", "nan" or other scripts' digits (which float() would take).
DECIMAL = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
#: A count or a code: digits only ("0", "3").
INTEGER = re.compile(r"[0-9]+")
#: A 32-bit field in hexadecimal, as the OBIS prints its status and fault words ("00000010"): one to eight digits.
HEX_32 = re.compile(r"[0-9A-Fa-f]{1,8}")


def parse_decimal(device: str, command: str, reply: str, unit: str = "") -> float:
    """The reply as a finite decimal number; with `unit`, the number may be followed by that unit ("25.02C")."""
    number = reply[: -len(unit)] if unit and reply.endswith(unit) else reply
    if DECIMAL.fullmatch(number):
        value = float(number)
        if math.isfinite(value):
            return value
    what = "a decimal number" + (f" (optionally followed by {unit!r})" if unit else "")
    raise DeviceError(device, command, f"expected {what}, got {reply!r}")


def parse_integer(device: str, command: str, reply: str) -> int:
    """The reply as a non-negative integer written in decimal digits ("0", "4")."""
    if INTEGER.fullmatch(reply):
        return int(reply)
    raise DeviceError(device, command, f"expected an integer, got {reply!r}")


def parse_hex_32(device: str, command: str, reply: str) -> int:
    """The reply as a 32-bit field of one to eight hexadecimal digits ("00000010"), no prefix or sign."""
    if HEX_32.fullmatch(reply):
        return int(reply, 16)
    raise DeviceError(device, command, f"expected a hexadecimal bit field (1 to 8 digits), got {reply!r}")
