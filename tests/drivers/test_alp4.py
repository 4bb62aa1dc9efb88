"""The ALP-4 driver through the real ALP4lib onto a fake of the ViALUX API library that checks alp.h's signatures."""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
import time

import fake_alp4
import numpy as np
import pytest

from speckle_lab.drivers import DeviceError, DeviceTimeout, OutOfRange
from speckle_lab.drivers.dmds import Alp4DMD
from speckle_lab.drivers.dmds.alp4 import alp_image_data

ROWS, COLS = fake_alp4.FakeAlpDll.rows, fake_alp4.FakeAlpDll.cols
SERIAL = fake_alp4.FakeAlpDll.serial
Dll = fake_alp4.FakeAlpDll


@pytest.fixture
def board(monkeypatch: pytest.MonkeyPatch) -> type[Dll]:
    """The fake library class; afterwards no call may have broken an alp.h declaration."""
    dll_class = fake_alp4.install(monkeypatch)
    yield dll_class
    assert [v for dll in dll_class.instances for v in dll.violations] == []


@pytest.fixture
def dmd(board: type[Dll]) -> Alp4DMD:
    device = Alp4DMD(device_number=SERIAL)
    board.instances[-1].calls.clear()
    yield device
    device.close()


def alp(board: type[Dll]) -> Dll:
    return board.instances[-1]


def binary_patterns(n: int) -> np.ndarray:
    """Patterns that differ per frame, row and column, so a transposed or reordered upload shows."""
    rng = np.random.default_rng(n)
    return rng.random((n, ROWS, COLS)) < 0.5


def calls_named(device: Dll, name: str) -> list[tuple]:
    return [args for called, args in device.calls if called == name]


def test_open_reads_geometry_identity_and_fastest_binary_rate(board: type[Dll]) -> None:
    with Alp4DMD(version="4.3", lib_dir="/opt/alp", device_number=SERIAL) as dmd:
        device = alp(board)
        assert device.path in ("/opt/alp/libalp43.so", "/opt/alp/x64/alp4395.dll")  # ALP4lib's path per OS
        assert calls_named(device, "AlpDevAlloc") == [(SERIAL, 0, "&c_ulong")]
        assert dmd.mirror_shape == (ROWS, COLS)
        assert dmd.identity.vendor == "ViALUX" and dmd.identity.serial == "4242" and dmd.identity.firmware == "7"
        assert dmd.identity.backend == "alp4" and "1024x768" in dmd.identity.model
        assert dmd.max_pattern_rate_hz == pytest.approx(1e6 / 44)  # ALP_MIN_PICTURE_TIME, binary uninterrupted
        assert device.sequences == {}  # the probe sequence was freed


def test_configured_rate_skips_the_probe(board: type[Dll]) -> None:
    with Alp4DMD(max_pattern_rate_hz=10_000.0) as dmd:
        assert dmd.max_pattern_rate_hz == 10_000.0
        assert "AlpSeqAlloc" not in alp(board).names()


def test_the_fake_refuses_calls_that_break_alp_h(board: type[Dll]) -> None:
    """The checks can fail: ALP4lib's own ProjInquire (four arguments) and wrong ctypes types are refused."""
    with Alp4DMD() as dmd:
        device = alp(board)
        with pytest.raises(fake_alp4.CSignatureViolation, match=r"AlpProjInquire.*4 arguments, alp.h declares"):
            dmd._alp.ProjInquire(fake_alp4.ALP_PROJ_STATE)
        dll, alp_id = dmd._alp._ALPLib, dmd._alp.ALP_ID
        with pytest.raises(fake_alp4.CSignatureViolation, match=r"argument 3 \(long\*\): pointer to c_double"):
            dll.AlpDevInquire(alp_id, fake_alp4.ALP_VERSION, ctypes.byref(ctypes.c_double()))
        with pytest.raises(fake_alp4.CSignatureViolation, match=r"argument 2 \(long\): c_double"):
            dll.AlpProjControl(alp_id, ctypes.c_double(2300), 2301)
        with pytest.raises(fake_alp4.CSignatureViolation, match=r"argument 3 \(long\*\): int where"):
            dll.AlpProjInquire(alp_id, fake_alp4.ALP_PROJ_STATE, 0)
        assert len(device.violations) == 4
        device.violations.clear()  # seen: the fixture checks the driver's own calls


def test_image_data_is_one_byte_per_mirror_in_frame_row_col_order() -> None:
    patterns = binary_patterns(2)
    data, bit_depth = alp_image_data(patterns)
    assert bit_depth == 1 and data.dtype == np.uint8
    assert np.array_equal(data.reshape(2, ROWS, COLS), patterns.astype(np.uint8) * 255)  # bit 7 sets a mirror
    gray = np.arange(2 * ROWS * COLS, dtype=np.uint64).reshape(2, ROWS, COLS).astype(np.uint8)
    data, bit_depth = alp_image_data(gray)
    assert bit_depth == 8 and np.array_equal(data, gray.ravel())


def test_show_binary_runs_a_one_picture_uninterrupted_sequence_continuously(dmd: Alp4DMD, board: type[Dll]) -> None:
    pattern = binary_patterns(1)[0]
    dmd.show(pattern)
    device = alp(board)
    assert device.names() == [
        "AlpDevHalt",
        "AlpSeqAlloc",
        "AlpSeqControl",
        "AlpSeqPut",
        "AlpSeqTiming",
        "AlpProjControl",
        "AlpProjStartCont",
    ]
    assert calls_named(device, "AlpSeqAlloc") == [(0xA1, 1, 1, "&c_long")]  # BitPlanes, PicNum
    (sequence,) = device.sequences.values()
    assert sequence.bin_uninterrupted
    assert np.array_equal(sequence.data.reshape(ROWS, COLS), pattern.astype(np.uint8) * 255)
    assert device.proj_mode == fake_alp4.ALP_MASTER
    dmd.show(~pattern)  # the previous one-picture sequence is halted and freed, not leaked
    (sequence,) = device.sequences.values()
    assert np.array_equal(sequence.data.reshape(ROWS, COLS), (~pattern).astype(np.uint8) * 255)


def test_show_gray_uses_an_8_bit_sequence(dmd: Alp4DMD, board: type[Dll]) -> None:
    pattern = (np.arange(ROWS * COLS) % 256).astype(np.uint8).reshape(ROWS, COLS)
    dmd.show(pattern)
    device = alp(board)
    assert calls_named(device, "AlpSeqAlloc") == [(0xA1, 8, 1, "&c_long")]
    assert "AlpSeqControl" not in device.names()  # no binary mode for gray
    (sequence,) = device.sequences.values()
    assert np.array_equal(sequence.data.reshape(ROWS, COLS), pattern)


def test_load_binary_sequence_allocates_uploads_and_times_it(dmd: Alp4DMD, board: type[Dll]) -> None:
    patterns = binary_patterns(3)
    dmd.load_sequence(patterns, picture_time_us=100.0, trigger_out=True)
    device = alp(board)
    assert calls_named(device, "AlpSeqAlloc") == [(0xA1, 1, 3, "&c_long")]
    (sequence_id, sequence), *_ = device.sequences.items()
    assert calls_named(device, "AlpSeqTiming") == [(0xA1, sequence_id, 0, 100, 0, 0, 0)]
    assert sequence.bin_uninterrupted and sequence.picture_time_us == 100
    assert np.array_equal(sequence.data.reshape(3, ROWS, COLS), patterns.astype(np.uint8) * 255)
    assert dmd.state()["sequence_length"] == 3 and dmd.state()["sequence_bit_depth"] == 1


def test_gray_sequence_below_its_minimum_picture_time_is_refused_and_freed(dmd: Alp4DMD, board: type[Dll]) -> None:
    gray = np.full((2, ROWS, COLS), 128, dtype=np.uint8)
    with pytest.raises(OutOfRange, match=r"below this sequence's minimum 4000 us \(8-bit\)"):
        dmd.load_sequence(gray, picture_time_us=1_000.0)
    assert alp(board).sequences == {}
    dmd.load_sequence(gray, picture_time_us=5_000.0)
    (sequence,) = alp(board).sequences.values()
    assert sequence.bit_depth == 8 and sequence.picture_time_us == 5_000


def test_contract_checks_come_before_any_board_call(dmd: Alp4DMD, board: type[Dll]) -> None:
    with pytest.raises(OutOfRange, match="below the minimum"):
        dmd.load_sequence(binary_patterns(2), picture_time_us=10.0)
    with pytest.raises(OutOfRange, match="mirror shape"):
        dmd.show(np.zeros((10, 10), dtype=bool))
    with pytest.raises(OutOfRange, match="neither bool nor uint8"):
        dmd.show(np.zeros((ROWS, COLS), dtype=np.float32))
    assert alp(board).calls == []


def test_master_run_repeats_then_wait_polls_the_projection_state_with_alp_h_signature(
    dmd: Alp4DMD, board: type[Dll]
) -> None:
    dmd.load_sequence(binary_patterns(3), picture_time_us=100.0)
    dmd.start(repeat=2)
    device = alp(board)
    assert device.proj_mode == fake_alp4.ALP_MASTER
    (sequence_id,) = device.sequences
    assert (0xA1, sequence_id, fake_alp4.ALP_SEQ_REPEAT, 2) in calls_named(device, "AlpSeqControl")
    assert device.names()[-1] == "AlpProjStart"  # not ProjStartCont
    dmd.wait(timeout_s=1.0)
    assert device.running is None and not dmd.state()["running"]
    polls = calls_named(device, "AlpProjInquire")
    assert polls and set(polls) == {(0xA1, fake_alp4.ALP_PROJ_STATE, "&c_long")}  # DeviceId, InquireType, &value


def test_wait_reports_an_alp_error_of_the_state_inquiry(dmd: Alp4DMD, board: type[Dll]) -> None:
    dmd.load_sequence(binary_patterns(1), picture_time_us=100.0)
    dmd.start(repeat=0)
    alp(board).fail_next["AlpProjInquire"] = fake_alp4.ALP_ERROR_COMM
    with pytest.raises(DeviceError, match="ALP_PROJ_STATE: AlpProjInquire returned 1011: Communication error"):
        dmd.wait(timeout_s=1.0)


def test_slave_run_waits_for_triggers_on_the_configured_edge(board: type[Dll]) -> None:
    with Alp4DMD(trigger_edge="falling") as dmd:
        dmd.load_sequence(binary_patterns(2), picture_time_us=100.0, trigger_in=True, trigger_out=False)
        dmd.start(repeat=1)
        device = alp(board)
        assert device.proj_mode == fake_alp4.ALP_SLAVE and device.trigger_edge == fake_alp4.ALP_EDGE_FALLING
        started = time.monotonic()
        with pytest.raises(DeviceTimeout, match=r"still runs after 0\.05 s"):
            dmd.wait(timeout_s=0.05)
        assert time.monotonic() - started < 0.5
        with pytest.raises(DeviceError, match="give a timeout"):
            dmd.wait()
        dmd.stop()
        dmd.wait()  # halted: nothing left to wait for
        assert device.running is None


def test_continuous_run_and_start_without_sequence(dmd: Alp4DMD, board: type[Dll]) -> None:
    with pytest.raises(OutOfRange, match="no sequence is loaded"):
        dmd.start()
    dmd.load_sequence(binary_patterns(2), picture_time_us=50.0)
    dmd.start(repeat=0)
    assert alp(board).names()[-1] == "AlpProjStartCont"
    with pytest.raises(DeviceError, match="give a timeout"):
        dmd.wait()
    dmd.start(repeat=1)  # restarting halts first: projection settings change only while idle
    dmd.wait(timeout_s=1.0)


def test_vendor_errors_become_device_errors_naming_device_and_command(dmd: Alp4DMD, board: type[Dll]) -> None:
    alp(board).fail_next["AlpSeqAlloc"] = fake_alp4.ALP_MEMORY_FULL
    with pytest.raises(DeviceError, match=r"ViALUX .*serial 4242.*SeqAlloc\(2, bitDepth=1\).*memory is not available"):
        dmd.load_sequence(binary_patterns(2), picture_time_us=100.0)
    alp(board).fail_next["AlpSeqPut"] = fake_alp4.ALP_ERROR_COMM
    with pytest.raises(DeviceError, match="SeqPut: ALPError: Communication error"):
        dmd.load_sequence(binary_patterns(2), picture_time_us=100.0)
    assert alp(board).sequences == {}  # the sequence whose upload failed was freed


def test_open_failures(board: type[Dll], monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DeviceError, match=r"ALP-4.3 \(device 5\): initialize: ALPError: .*not been found"):
        Alp4DMD(device_number=5)  # DeviceNum is the board's serial number (or ALP_DEFAULT for the first)
    monkeypatch.setitem(sys.modules, "ALP4", None)  # ALP4lib not installed
    with pytest.raises(DeviceError, match="install ALP4lib"):
        Alp4DMD()


def test_close_halts_frees_every_sequence_and_the_device(dmd: Alp4DMD, board: type[Dll]) -> None:
    dmd.show(binary_patterns(1)[0])
    dmd.load_sequence(binary_patterns(2), picture_time_us=100.0)
    dmd.start(repeat=0)
    device = alp(board)
    device.calls.clear()
    dmd.close()
    assert device.names() == ["AlpDevHalt", "AlpSeqFree", "AlpSeqFree", "AlpDevFree"]
    assert device.sequences == {} and device.freed
    dmd.close()  # a second close does nothing
    assert device.names() == ["AlpDevHalt", "AlpSeqFree", "AlpSeqFree", "AlpDevFree"]
    with pytest.raises(DeviceError, match="closed"):
        dmd.show(binary_patterns(1)[0])


def test_close_goes_on_after_a_failure_and_reports_it(dmd: Alp4DMD, board: type[Dll]) -> None:
    dmd.load_sequence(binary_patterns(2), picture_time_us=100.0)
    alp(board).fail_next["AlpDevHalt"] = fake_alp4.ALP_ERROR_COMM
    with pytest.raises(DeviceError, match="close: Halt"):
        dmd.close()
    assert alp(board).freed and alp(board).sequences == {}


needs_alp = pytest.mark.skipif(
    importlib.util.find_spec("ALP4") is None or not os.environ.get("SPECKLE_LAB_ALP4"),
    reason="vendor library not installed: needs ALP4lib, the ViALUX ALP-4 API and a DMD (set SPECKLE_LAB_ALP4=1)",
)


@needs_alp
def test_real_alp4_shows_a_pattern_and_runs_a_sequence() -> None:
    """On a bench PC with ALP4lib and a DMD: the same calls against the real board."""
    with Alp4DMD(lib_dir=os.environ.get("SPECKLE_LAB_ALP4_DIR")) as dmd:
        rows, cols = dmd.mirror_shape
        checker = (np.add.outer(np.arange(rows), np.arange(cols)) // 16) % 2 == 0
        dmd.show(checker)
        patterns = np.stack([checker, ~checker, checker])
        dmd.load_sequence(patterns, picture_time_us=max(dmd.min_picture_time_us, 1_000.0))
        dmd.start(repeat=2)
        dmd.wait(timeout_s=2.0)


def test_macropixel_images_upload_the_same_bytes_as_their_mirror_patterns(dmd: Alp4DMD, board: type[Dll]) -> None:
    """The engine hands macropixel images and the geometry; the ALP-4 expands them to mirrors itself."""
    from speckle_lab.drivers import DmdGeometry

    geometry = DmdGeometry((ROWS, COLS), 5, 9, 4, 16)
    images = np.random.default_rng(3).random((3, 16, 16)) < 0.5
    dmd.load_macropixels(images, geometry, picture_time_us=100.0)
    (sequence,) = alp(board).sequences.values()
    assert np.array_equal(sequence.data.reshape(3, ROWS, COLS), geometry.to_mirrors(images).astype(np.uint8) * 255)
    gray = np.random.default_rng(4).integers(0, 256, (16, 16), dtype=np.uint8)
    dmd.show_macropixels(gray, geometry)
    shown = [s for s in alp(board).sequences.values() if s.data.size == ROWS * COLS]
    assert np.array_equal(shown[-1].data.reshape(ROWS, COLS), geometry.to_mirrors(gray[None])[0])
    with pytest.raises(OutOfRange, match="not \\[frame, 16, 16\\]"):
        dmd.load_macropixels(np.zeros((2, 8, 8), bool), geometry, picture_time_us=100.0)
    with pytest.raises(OutOfRange, match="the geometry is for"):
        dmd.load_macropixels(images, DmdGeometry((64, 64), 0, 0, 4, 16), picture_time_us=100.0)
