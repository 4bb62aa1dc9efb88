"""Every subcommand, fed bad inputs: a non-zero exit, one line naming the input, no traceback, no file changed.

Runs `lab.cli.main` in this process (an exception escaping it is what a user sees as a traceback), with a
folder of good and bad inputs whose every file is fingerprinted before and after each command.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import os
import traceback
from pathlib import Path

import pytest

from speckle_lab.acquisition.datafile import CaptureReader
from speckle_lab.acquisition.plan import plan_from_dict
from speckle_lab.lab.bench import build_bench
from speckle_lab.lab.bench_config import BenchConfig, dumps_toml
from speckle_lab.lab.capture_service import make_run
from speckle_lab.lab.cli import main

SMALL_BENCH = {
    "dmd": {"mirror_rows": 64, "mirror_cols": 64, "macropixel_mirrors": 2, "side_macropixels": 24},
    "camera": {"rows": 32, "cols": 32},
    "medium": {"grain_px": 1.0},
}
SMALL = ["--targets", "blobs", "--n", "8", "--target-size", "16", "--block", "8"]


def fingerprint(folder: Path) -> dict[str, str]:
    prints = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_dir():
            prints[key] = "dir"
        else:
            prints[key] = hashlib.sha256(path.read_bytes()).hexdigest() + f" {path.stat().st_mode:o}"
    return prints


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sweep")
    config = BenchConfig().with_changes(**SMALL_BENCH)
    (root / "bench.toml").write_text(dumps_toml(config))
    (root / "latin1.toml").write_bytes("n_frames = 10 # caf\xe9\n".encode("latin-1"))
    (root / "string_n.toml").write_text('n_frames = "10"\n')
    (root / "unknown_key.toml").write_text("n_framez = 10\n")
    (root / "text.h5").write_text("not hdf5\n")
    (root / "empty.h5").write_bytes(b"")
    (root / "folder.h5").mkdir()
    (root / "readonly").mkdir()
    (root / "readonly").chmod(0o555)
    with build_bench(config) as bench:
        plan = plan_from_dict({"targets": "blobs", "n_frames": 8, "target_rows": 16, "target_cols": 16}, "t")
        assert make_run(plan, bench, root / "complete.h5").run().ok
    data = (root / "complete.h5").read_bytes()
    (root / "half.h5").write_bytes(data[: len(data) // 2])
    (root / "notarun").mkdir()
    (root / "notarun" / "config.json").write_text("{trunc")
    with CaptureReader(root / "complete.h5") as reader:
        assert reader.status == "complete"
    from speckle_lab.model.checkpoint import save_checkpoint
    from speckle_lab.model.trainer import BEST_CHECKPOINT

    (root / "otherrun").mkdir()  # a net trained on another camera ROI: only its recorded shapes matter here
    arch = {"speckle_shape": [64, 64], "target_shape": [16, 16]}
    save_checkpoint(root / "otherrun" / BEST_CHECKPOINT, {"arch": arch})
    yield root
    (root / "readonly").chmod(0o755)


def cases(r: Path) -> list[tuple[str, list[str], str]]:
    """(name, argv, a word the one-line message must contain: the input it names)."""
    b = ["--bench", str(r / "bench.toml")]
    fresh = itertools.count()
    new = lambda: str(r / f"new{next(fresh)}.h5")  # noqa: E731  (never an existing file: each case its own)
    return [
        ("capture: plan TOML not UTF-8", ["capture", "--plan", str(r / "latin1.toml"), "--out", new()], "latin1.toml"),
        ("capture: n_frames as a string", ["capture", "--plan", str(r / "string_n.toml"), "--out", new()], "n_frames"),
        ("capture: unknown plan key", ["capture", "--plan", str(r / "unknown_key.toml"), "--out", new()], "n_framez"),
        ("capture: power above the laser limit", ["capture", *SMALL, *b, "--power-w", "5", "--out", new()], "power"),
        ("capture: power inf", ["capture", *SMALL, *b, "--power-w", "inf", "--out", new()], "power"),
        (
            "capture: exposure the camera refuses",
            ["capture", *SMALL, *b, "--exposure-us", "1e12", "--out", new()],
            "exposure",
        ),
        ("capture: negative exposure", ["capture", *SMALL, *b, "--exposure-us", "-5", "--out", new()], "exposure"),
        (
            "capture: scale that does not fit the DMD",
            ["capture", *SMALL, *b, "--placement", "random", "--scale", "5,5", "--out", new()],
            "scale",
        ),
        (
            "capture: target size larger than the DMD",
            ["capture", *SMALL, *b, "--target-size", "1000", "--out", new()],
            "1000",
        ),
        ("capture: --scale not two numbers", ["capture", *SMALL, "--scale", "abc", "--out", new()], "abc"),
        ("capture: --n 0", ["capture", *SMALL, *b, "--n", "0", "--out", new()], "n_frames"),
        ("capture: --block 0", ["capture", *SMALL, *b, "--block", "0", "--out", new()], "block"),
        ("capture: unknown target source", ["capture", *SMALL, *b, "--targets", "nosuch", "--out", new()], "nosuch"),
        ("capture: missing output folder", ["capture", *SMALL, *b, "--out", str(r / "nofolder" / "x.h5")], "nofolder"),
        (
            "capture: read-only output folder",
            ["capture", *SMALL, *b, "--out", str(r / "readonly" / "x.h5")],
            "not writable",
        ),
        ("capture: output is a directory", ["capture", *SMALL, *b, "--out", str(r / "folder.h5")], "directory"),
        ("capture: output exists", ["capture", *SMALL, *b, "--out", str(r / "complete.h5")], "complete.h5"),
        (
            "capture: missing bench file",
            ["capture", *SMALL, "--bench", str(r / "nobench.toml"), "--out", new()],
            "nobench.toml",
        ),
        (
            "capture: bench not UTF-8",
            ["capture", *SMALL, "--bench", str(r / "latin1.toml"), "--out", new()],
            "latin1.toml",
        ),
        ("capture: missing plan file", ["capture", "--plan", str(r / "noplan.toml"), "--out", new()], "noplan.toml"),
        ("capture: missing queue file", ["capture", "--queue", str(r / "noqueue.toml")], "noqueue.toml"),
        ("capture: --resume with --n", ["capture", "--resume", str(r / "half.h5"), "--n", "10"], "--n"),
        ("capture: --resume with --bench", ["capture", "--resume", str(r / "half.h5"), *b], "--bench"),
        ("capture: --resume a complete file", ["capture", "--resume", str(r / "complete.h5")], "complete"),
        ("capture: --resume a missing file", ["capture", "--resume", str(r / "missing.h5")], "missing.h5"),
        ("capture: --resume a text file", ["capture", "--resume", str(r / "text.h5")], "text.h5"),
        ("capture: --resume an empty file", ["capture", "--resume", str(r / "empty.h5")], "empty.h5"),
        ("capture: --resume a directory", ["capture", "--resume", str(r / "folder.h5")], "folder.h5"),
        ("capture: --resume a truncated copy", ["capture", "--resume", str(r / "half.h5")], "truncated"),
        ("inspect: missing file", ["inspect", str(r / "missing.h5")], "missing.h5"),
        ("inspect: text file", ["inspect", str(r / "text.h5")], "text.h5"),
        ("inspect: empty file", ["inspect", str(r / "empty.h5")], "empty.h5"),
        ("inspect: directory", ["inspect", str(r / "folder.h5")], "folder.h5"),
        ("inspect: truncated copy", ["inspect", str(r / "half.h5")], "truncated"),
        ("train: missing data file", ["train", str(r / "missing.h5"), "--out", str(r / "run1")], "missing.h5"),
        ("train: text data file", ["train", str(r / "text.h5"), "--out", str(r / "run1")], "text.h5"),
        (
            "train: config not UTF-8",
            ["train", str(r / "complete.h5"), "--config", str(r / "latin1.toml"), "--out", str(r / "run1")],
            "latin1.toml",
        ),
        ("train: --epochs 0", ["train", str(r / "complete.h5"), "--epochs", "0", "--out", str(r / "run1")], "epochs"),
        ("train: --lr -1", ["train", str(r / "complete.h5"), "--lr", "-1", "--out", str(r / "run1")], "lr"),
        ("train: --out is a file", ["train", str(r / "complete.h5"), "--out", str(r / "text.h5")], "text.h5"),
        (
            "train: --resume a run with a truncated config",
            ["train", str(r / "complete.h5"), "--resume", "--out", str(r / "notarun")],
            "notarun",
        ),
        ("evaluate: missing run folder", ["evaluate", str(r / "norun"), str(r / "complete.h5")], "norun"),
        ("evaluate: not a run folder", ["evaluate", str(r / "notarun"), str(r / "complete.h5")], "notarun"),
        ("evaluate: data of another speckle shape", ["evaluate", str(r / "otherrun"), str(r / "complete.h5")], "64x64"),
        ("devices: missing bench file", ["devices", "--bench", str(r / "nobench.toml")], "nobench.toml"),
        ("devices: bench not UTF-8", ["devices", "--bench", str(r / "latin1.toml")], "latin1.toml"),
        ("targets: unknown source", ["targets", "nosuch"], "nosuch"),
    ]


def run_cli(argv: list[str]) -> tuple[int | None, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 2
        except BaseException:
            return None, out.getvalue(), err.getvalue() + traceback.format_exc()
    return code, out.getvalue(), err.getvalue()


def test_every_bad_input_is_one_line_naming_it_with_no_traceback_and_no_file_changed(inputs: Path) -> None:
    problems = []
    tried = cases(inputs)
    if os.geteuid() == 0:  # root writes into a read-only folder: the refusal cannot be provoked
        tried = [case for case in tried if "read-only" not in case[0]]
    for name, argv, word in tried:
        before = fingerprint(inputs)
        code, _, err = run_cli(argv)
        after = fingerprint(inputs)
        lines = [line for line in err.splitlines() if line.strip()]
        if code is None or "Traceback" in err:
            problems.append(f"{name}: traceback: {err.strip().splitlines()[-1] if err.strip() else ''}")
        elif code == 0:
            problems.append(f"{name}: exit 0")
        elif len(lines) != 1 and not (lines and lines[0].startswith("usage:")):
            problems.append(f"{name}: {len(lines)} lines: {err.strip()[:300]}")
        elif word.lower() not in err.lower():
            problems.append(f"{name}: does not name {word!r}: {err.strip()[:300]}")
        if before != after:
            changed = sorted(set(before.items()) ^ set(after.items()))
            problems.append(f"{name}: files changed: {changed[:3]}")
    print(f"\nbad-input sweep: {len(tried)} tried, {len(tried) - len(problems)} clean")
    assert not problems, "\n".join(problems)
