"""What `speckle-lab inspect` shows about a capture file: counts, shapes, status, drift, gaps and events,
as a JSON-ready dict and as text for a person."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from speckle_lab.acquisition.datafile.layout import FORMAT
from speckle_lab.acquisition.datafile.records import RunMetadata
from speckle_lab.acquisition.text import format_bytes, resume_command

MAX_LISTED = 10  # gaps and recent events listed in full; the rest only counted


def frame_id_gaps(frame_ids: np.ndarray, explained_rows: set[int] | frozenset[int] = frozenset()) -> dict[str, Any]:
    """Jumps in the camera frame ids of consecutive rows: a jump > 1 means frames the camera made that are not
    rows, a jump <= 0 a restart of the camera's counter (a resume or a reopened camera). Jumps at
    `explained_rows` are the capture's own doing (a reference frame, a retried block, a resume) and are counted
    apart; the others are frames lost without a record."""
    steps = np.diff(frame_ids.astype(np.int64))
    gap_rows = [row for row in np.flatnonzero(steps > 1) + 1 if int(row) not in explained_rows]
    reset_rows = np.flatnonzero(steps <= 0) + 1
    explained = [row for row in np.flatnonzero(steps != 1) + 1 if int(row) in explained_rows]
    return {
        "gaps": len(gap_rows),
        "frames_skipped": int(sum(steps[row - 1] - 1 for row in gap_rows)),
        "resets": len(reset_rows),
        "explained_jumps": len(explained),
        "first_gaps": [
            {"row": int(row), "frame_id_before": int(frame_ids[row - 1]), "frame_id": int(frame_ids[row])}
            for row in gap_rows[:MAX_LISTED]
        ],
    }


class SummarySource(Protocol):
    """What a summary reads of an open capture file (`CaptureReader` is one). Declared here so the reader
    imports the summary and not the other way round."""

    path: Path
    metadata: RunMetadata
    status: str
    speckle_shape: tuple[int, int]
    speckle_dtype: np.dtype
    speckle_chunks: tuple[int, ...] | None
    target_shape: tuple[int, int]

    @property
    def n_frames(self) -> int: ...
    @property
    def n_planned(self) -> int: ...
    @property
    def writer_active(self) -> bool: ...
    @property
    def plan(self) -> dict[str, Any]: ...
    @property
    def bench(self) -> dict[str, Any]: ...
    @property
    def devices(self) -> list[dict[str, Any]]: ...
    @property
    def medium(self) -> dict[str, Any] | None: ...
    @property
    def target_stats(self) -> dict[str, Any]: ...
    @property
    def run_id(self) -> str: ...
    @property
    def software_version(self) -> str: ...
    def frame_field_dtypes(self) -> dict[str, np.dtype]: ...
    def column(self, name: str) -> np.ndarray: ...
    def dark(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...
    def references(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]: ...
    def events(self) -> list[dict[str, Any]]: ...


def build_summary(reader: SummarySource) -> dict[str, Any]:
    n = reader.n_frames
    timestamps = reader.column("timestamp")
    _, dark_times, dark_phase = reader.dark()
    _, _, after_row, correlation = reader.references()
    events = reader.events()
    by_kind = Counter(event["kind"] for event in events)
    status = reader.status
    alive = reader.writer_active
    duration_s = float(timestamps[-1] - timestamps[0]) if n > 1 else 0.0
    return {
        "path": str(reader.path),
        "file_size_bytes": reader.path.stat().st_size,
        "format": FORMAT,
        "run_id": reader.run_id,
        "software_version": reader.software_version,
        "created_utc": datetime.fromtimestamp(reader.metadata.created_s, UTC).isoformat(),
        "host": reader.metadata.host,
        "status": status,
        "writer_active": alive,
        "interrupted": status == "running" and not alive,
        "frames": {
            "committed": n,
            "planned": reader.n_planned,
            "missing": max(0, reader.n_planned - n),
            "speckle_shape": list(reader.speckle_shape),
            "speckle_dtype": str(reader.speckle_dtype),
            "speckle_chunks": list(reader.speckle_chunks or ()),
            "target_shape": list(reader.target_shape),
            "target_dtype": "float32",
            "fields": {name: str(dtype) for name, dtype in reader.frame_field_dtypes().items()},
            "first_timestamp_s": float(timestamps[0]) if n else None,
            "last_timestamp_s": float(timestamps[-1]) if n else None,
            "duration_s": duration_s,
            "frames_per_s": (n - 1) / duration_s if duration_s > 0 else None,
        },
        "frame_ids": frame_id_gaps(
            reader.column("frame_id"),
            {int(row) for row in after_row} | {int(event["row"]) for event in events if event["kind"] != "preflight"},
        ),
        "dark": {
            "count": len(dark_times),
            "start": int(np.sum(dark_phase == "start")),
            "end": int(np.sum(dark_phase == "end")),
        },
        "reference": {
            "count": len(correlation),
            "correlation_min": _finite_or_none(np.nanmin(correlation)) if len(correlation) else None,
            "correlation_last": _finite_or_none(correlation[-1]) if len(correlation) else None,
            "after_rows": [int(row) for row in after_row[-MAX_LISTED:]],
            "missing_after_rows": missing_references(reader.plan, n, after_row),
            "correlations": [_finite_or_none(value) for value in correlation[-MAX_LISTED:]],
        },
        "events": {
            "count": len(events),
            "by_kind": dict(sorted(by_kind.items())),
            "retries": by_kind.get("retry", 0),
            "camera_timeouts": by_kind.get("camera_timeout", 0),
            "frame_gaps": by_kind.get("frame_gap", 0),
            "last": events[-MAX_LISTED:],
        },
        "plan": reader.plan,
        "bench": reader.bench,
        "devices": reader.devices,
        "medium": reader.medium,
        "target_stats": reader.target_stats,
    }


def missing_references(plan: dict[str, Any], rows: int, after_row: np.ndarray) -> list[int]:
    """Rows after which the plan takes a reference frame (every `reference_every` rows and after the last
    planned row) that the file's committed rows reached but whose reference is not there: a kill between a
    block and its reference costs it (a resume takes it again)."""
    every, planned = plan.get("reference_every"), plan.get("n_frames")
    if not isinstance(every, int) or every < 1 or not isinstance(planned, int):
        return []
    due = set(range(every, rows + 1, every))
    if rows >= planned > 0:
        due.add(planned)
    return sorted(due - {int(row) for row in after_row})[:MAX_LISTED]


def _finite_or_none(value: float) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def _compact(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 3] + "..."


def _wrapped(label: str, value: Any, width: int = 110) -> list[str]:
    """`label  key=value, key=value` over as many lines as it takes (nested values shortened)."""
    if not isinstance(value, dict) or not value:
        return [f"{label:<12}{_compact(value, width)}"]
    lines, line = [], ""
    for key, item in value.items():
        part = f"{key}={_compact(item)}"
        if line and len(line) + len(part) + 2 > width - 12:
            lines.append(line + ",")
            line = part
        else:
            line = f"{line}, {part}" if line else part
    lines.append(line)
    return [f"{label if i == 0 else '':<12}{text}" for i, text in enumerate(lines)]


def _state(summary: dict[str, Any]) -> str:
    if summary["interrupted"]:
        return f"interrupted (status running but no writer): resume with  {resume_command(summary['path'])}"
    if summary["status"] == "running":
        return "running (being written now)"
    return summary["status"]


def format_summary(summary: dict[str, Any]) -> str:
    """The human-readable `inspect` text."""
    frames, ids, dark, reference, events = (
        summary[key] for key in ("frames", "frame_ids", "dark", "reference", "events")
    )
    done = frames["committed"] / frames["planned"] if frames["planned"] else 1.0
    lines = [
        f"file        {summary['path']}  ({format_bytes(summary['file_size_bytes'])}, {summary['format']})",
        f"run         {summary['run_id']}, speckle-lab {summary['software_version']}, "
        f"created {summary['created_utc']} on {summary['host']}",
        f"status      {_state(summary)}",
        f"frames      {frames['committed']} of {frames['planned']} committed ({done:.1%}), "
        f"speckle {'x'.join(map(str, frames['speckle_shape']))} {frames['speckle_dtype']}, "
        f"target {'x'.join(map(str, frames['target_shape']))} {frames['target_dtype']}",
    ]
    if frames["fields"]:
        lines.append("fields      " + ", ".join(f"{name} {dtype}" for name, dtype in frames["fields"].items()))
    if frames["committed"]:
        rate = f", {frames['frames_per_s']:.1f} frames/s" if frames["frames_per_s"] else ""
        start = datetime.fromtimestamp(frames["first_timestamp_s"], UTC).isoformat(timespec="seconds")
        lines.append(f"time        from {start}, {frames['duration_s']:.1f} s{rate}")
    lines.append(
        f"frame ids   {ids['gaps']} unexplained gaps ({ids['frames_skipped']} frames skipped), "
        f"{ids['resets']} counter restarts, {ids['explained_jumps']} jumps at references, retries and resumes"
        + "".join(
            f"\n              row {g['row']}: {g['frame_id_before']} -> {g['frame_id']}" for g in ids["first_gaps"]
        )
    )
    lines.append(f"dark        {dark['count']} frames ({dark['start']} at start, {dark['end']} at end)")
    if reference["count"]:
        lines.append(
            f"reference   {reference['count']} frames, correlation with the first: "
            f"min {_number(reference['correlation_min'])}, last {_number(reference['correlation_last'])}"
        )
    else:
        lines.append("reference   none")
    if reference["missing_after_rows"]:
        rows = ", ".join(map(str, reference["missing_after_rows"]))
        lines.append(f"            MISSING the reference frame after row {rows} (lost in a crash; a resume retakes it)")
    kinds = ", ".join(f"{count} {kind}" for kind, count in events["by_kind"].items()) or "none"
    lines.append(f"events      {kinds}")
    for event in events["last"]:
        when = datetime.fromtimestamp(event["time_s"], UTC).isoformat(timespec="seconds")
        lines.append(f"              {when} row {event['row']}: {event['kind']}: {_compact(event['message'], 100)}")
    for key, label in (("plan", "plan"), ("bench", "bench"), ("medium", "medium"), ("target_stats", "targets")):
        lines += _wrapped(label, summary[key])
    for device in summary["devices"]:
        lines += _wrapped("device", device)
    return "\n".join(lines)


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"
