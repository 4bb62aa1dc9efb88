"""`--json`: one JSON document on stdout and nothing else there (progress bars, logs and notes go to stderr),
so `speckle-lab COMMAND --json | jq` always parses. Non-finite numbers (a NaN intrinsic dimension, a Dice
without validation frames) are written as null: JSON has no NaN."""

from __future__ import annotations

import json
import math
import sys
from typing import Any


def finite_or_null(value: Any) -> Any:
    """`value` with every NaN or infinite float, at any depth, replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_or_null(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_null(item) for item in value]
    return value


def print_json(document: Any) -> None:
    """Print `document` as strict JSON (no NaN) on stdout; values JSON lacks (paths, dates) as strings."""
    text = json.dumps(finite_or_null(document), indent=2, default=str, ensure_ascii=False, allow_nan=False)
    print(text, file=sys.stdout, flush=True)
