"""`speckle-lab inspect FILE [--json]`: what a capture file holds, for a person or a script."""

from __future__ import annotations

import json
import sys

from speckle_lab.acquisition.datafile.errors import CaptureFileError
from speckle_lab.acquisition.datafile.reader import CaptureReader
from speckle_lab.acquisition.datafile.summary import format_summary

EXIT_BAD_FILE = 2


def run_inspect(path: str, as_json: bool) -> int:
    """Print the summary of `path`; a file that is not a readable capture is one line on stderr and exit 2."""
    try:
        with CaptureReader(path) as reader:
            summary = reader.summary()
    except CaptureFileError as error:
        print(f"speckle-lab: error: {error}", file=sys.stderr)
        return EXIT_BAD_FILE
    print(json.dumps(summary, indent=2, default=str, ensure_ascii=False) if as_json else format_summary(summary))
    return 0
