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
import shutil
import traceback
from pathlib import Path

import numpy as np
import pytest

from speckle_lab.acquisition.datafile import CaptureReader
from speckle_lab.acquisition.plan import plan_from_dict
from speckle_lab.lab.bench import build_bench
from speckle_lab.lab.bench_config import BenchConfig, dumps_toml
from speckle_lab.lab.capture_service import make_run
from speckle_lab.lab.cli import main
from speckle_lab.model.checkpoint import save_checkpoint
from speckle_lab.model.trainer import BEST_CHECKPOINT

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
        if path.is_symlink():
            prints[key] = f"-> {os.readlink(path)}"
        elif path.is_dir():
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
    (root / "otherrun").mkdir()  # a net trained on another camera ROI: only its recorded shapes matter here
    arch = {"speckle_shape": [64, 64], "target_shape": [16, 16]}
    save_checkpoint(root / "otherrun" / BEST_CHECKPOINT, {"arch": arch})
    _more_inputs(root, config)
    yield root
    (root / "readonly").chmod(0o755)


def _more_inputs(root: Path, config: BenchConfig) -> None:
    """The inputs of issue 21's sweep: benches too big to simulate or of impossible light, damaged counters,
    symbolic-link loops, NaN targets, a run killed before its first checkpoint, a best.pt from another run."""
    import h5py

    from speckle_lab.acquisition.control import CaptureControl

    base = dumps_toml(config)
    (root / "huge.toml").write_text(
        base.replace("rows = 32\n", "rows = 60000\n").replace("cols = 32\n", "cols = 60000\n")
    )
    (root / "maxrows.toml").write_text(base.replace("rows = 32\n", f"rows = {2**63 - 1}\n"))
    photons = base.replace("[sim]\n", "[sim]\nphotons_per_joule = 1e300\n").replace("photons_per_joule = 5", "# 5")
    (root / "photons.toml").write_text(photons)
    control = CaptureControl()
    control.abort("stopped for the test")  # aborted at once: a resumable file
    with build_bench(config) as bench:
        plan = plan_from_dict({"targets": "blobs", "n_frames": 8, "target_rows": 16, "target_cols": 16}, "t")
        make_run(plan, bench, root / "negative.h5", control=control).run()
    with h5py.File(root / "negative.h5", "r+") as f:
        f["entry/frames/committed"][()] = -5
    (root / "loop1.h5").symlink_to(root / "loop2.h5")
    (root / "loop2.h5").symlink_to(root / "loop1.h5")
    (root / "nan_target.h5").write_bytes((root / "complete.h5").read_bytes())
    with h5py.File(root / "nan_target.h5", "r+") as f:
        f["entry/frames/target"][3, 2, 2] = np.nan
    (root / "killedrun").mkdir()  # a run killed in its first epoch: a log, no checkpoint
    (root / "killedrun" / "training.log").write_text("starting training\n")
    tiny = ["--epochs", "1", "--batch-size", "4"]
    for name, seed in (("runA", "1"), ("runB", "2")):
        assert main(["train", str(root / "complete.h5"), "--out", str(root / name), "--seed", seed, *tiny]) == 0
    shutil.copy(root / "runB" / BEST_CHECKPOINT, root / "runA" / BEST_CHECKPOINT)  # copied from another run


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
        # issue 21
        ("capture: a 60000 x 60000 camera", ["capture", *SMALL, "--bench", str(r / "huge.toml"), "--out", new()],
         "camera.rows"),
        ("capture: rows = 2^63-1", ["capture", *SMALL, "--bench", str(r / "maxrows.toml"), "--out", new()],
         "camera.rows"),
        ("capture: photons_per_joule = 1e300",
         ["capture", *SMALL, "--bench", str(r / "photons.toml"), "--out", new()], "photons_per_joule"),
        ("devices: a 60000 x 60000 camera", ["devices", "--bench", str(r / "huge.toml")], "camera.rows"),
        ("capture: --out in /proc", ["capture", *SMALL, *b, "--out", "/proc/o.h5"], "virtual file system"),
        ("capture: --seed -1", ["capture", *SMALL, *b, "--seed", "-1", "--out", new()], "seed"),
        ("capture: --resume a negative committed counter", ["capture", "--resume", str(r / "negative.h5")],
         "committed = -5"),
        ("inspect: a negative committed counter", ["inspect", str(r / "negative.h5")], "committed = -5"),
        ("capture: --resume a symbolic-link loop", ["capture", "--resume", str(r / "loop1.h5")], "loop"),
        ("inspect: a symbolic-link loop", ["inspect", str(r / "loop1.h5")], "loop"),
        ("train: a symbolic-link loop", ["train", str(r / "loop1.h5"), "--out", str(r / "run1")], "loop"),
        ("train: --seed -1", ["train", str(r / "complete.h5"), "--seed", "-1", "--out", str(r / "run1")], "seed"),
        ("train: --lr inf", ["train", str(r / "complete.h5"), "--lr", "inf", "--out", str(r / "run1")], "lr"),
        ("train: --lr nan", ["train", str(r / "complete.h5"), "--lr", "nan", "--out", str(r / "run1")], "lr"),
        ("train: the same file twice", ["train", str(r / "complete.h5"), str(r / "complete.h5"), "--out",
                                        str(r / "run1")], "given twice"),
        ("train: NaN in a target", ["train", str(r / "nan_target.h5"), "--out", str(r / "run1")], "row 3"),
        ("train: --lr 1e20 diverges", ["train", str(r / "complete.h5"), "--lr", "1e20", "--batch-size", "2",
                                       "--out", str(r / "run1")], "epoch 1"),
        ("train: --resume a run killed before its first checkpoint",
         ["train", str(r / "complete.h5"), "--resume", "--out", str(r / "killedrun")], "start it afresh"),
        ("evaluate: a best.pt copied from another run", ["evaluate", str(r / "runA"), str(r / "complete.h5")],
         "another run"),
    ]  # fmt: skip


#: Exit codes of the table (lab/exit_codes.py) where a case is not bad input: a run that failed on its own.
EXIT_CODES = {"train: --lr 1e20 diverges": 1}


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
        # what a terminal shows: a progress bar redraws itself after "\r" and is erased when it closes
        shown = [line.rsplit("\r", 1)[-1] for line in err.split("\n")]
        lines = [line for line in shown if line.strip()]
        if code is None or "Traceback" in err:
            problems.append(f"{name}: traceback: {err.strip().splitlines()[-1] if err.strip() else ''}")
        elif code == 0:
            problems.append(f"{name}: exit 0")
        elif code != EXIT_CODES.get(name, 2):
            problems.append(f"{name}: exit {code}, the table says {EXIT_CODES.get(name, 2)}: {err.strip()[:200]}")
        elif len(lines) != 1 and not (lines and lines[0].startswith("usage:")):
            problems.append(f"{name}: {len(lines)} lines: {err.strip()[:300]}")
        elif word.lower() not in err.lower():
            problems.append(f"{name}: does not name {word!r}: {err.strip()[:300]}")
        if before != after:
            changed = sorted(set(before.items()) ^ set(after.items()))
            problems.append(f"{name}: files changed: {changed[:3]}")
    print(f"\nbad-input sweep: {len(tried)} tried, {len(tried) - len(problems)} clean")
    assert not problems, "\n".join(problems)


def test_training_on_a_full_disk_exits_1_as_the_table_says(inputs: Path, tmp_path: Path) -> None:
    """A full disk is the system's failure, not bad input: exit 1 (it was 2), one line naming the file."""
    import subprocess

    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.decode().strip()}")
    try:
        code, _, err = run_cli(["train", str(inputs / "complete.h5"), "--epochs", "1", "--out", str(mount / "run")])
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
    shown = [line.rsplit("\r", 1)[-1] for line in err.split("\n") if line.rsplit("\r", 1)[-1].strip()]
    assert code == 1, err
    assert len(shown) == 1 and "cannot write it: no space left on the device" in shown[0], err
