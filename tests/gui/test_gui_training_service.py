"""The training service's protocol, in process (the child's main loop on strings): jobs, errors, arrays."""

from __future__ import annotations

import io
import json

import numpy as np

from speckle_lab.lab.training_service import TrainingJob, child_main, decode_event, encode_array


def run_child(*lines: str) -> tuple[int, list[dict]]:
    out = io.StringIO()
    code = child_main(io.StringIO("".join(f"{line}\n" for line in lines)), out)
    return code, [decode_event(json.loads(line)) for line in out.getvalue().splitlines()]


def test_arrays_travel_exactly() -> None:
    array = np.arange(12, dtype=np.uint16).reshape(3, 4)
    event = decode_event(json.loads(json.dumps({"event": "samples", "speckle": encode_array(array)})))
    assert event["speckle"].dtype == np.uint16 and np.array_equal(event["speckle"], array)


def test_a_bad_job_is_an_error_event() -> None:
    code, events = run_child("this is not json")
    assert code == 2 and events[0]["event"] == "error" and "bad job" in events[0]["message"]


def test_a_missing_data_file_is_a_one_line_error(tmp_path) -> None:
    job = TrainingJob(data=(str(tmp_path / "missing.h5"),), out_dir=str(tmp_path / "run"), config={"epochs": 1})
    code, events = run_child(json.dumps(job.__dict__ | {"data": list(job.data)}))
    assert code == 1
    assert events[-1]["event"] == "error" and "missing.h5" in events[-1]["message"]
    assert "\n" not in events[-1]["message"]


def test_a_bad_training_setting_is_named(tmp_path, bench_file) -> None:
    from speckle_lab.acquisition.plan import plan_from_dict
    from speckle_lab.lab.capture_service import run_plan

    data = tmp_path / "data.h5"
    plan = plan_from_dict({"targets": "digits", "n_frames": 40, "target_rows": 8, "target_cols": 8, "dark_frames": 0})
    assert run_plan(plan, data, bench_file).ok
    job = {"data": [str(data)], "out_dir": str(tmp_path / "run"), "config": {"epochs": 0}}
    code, events = run_child(json.dumps(job))
    assert code == 1 and events[-1]["message"].startswith("training configuration: epochs:")
