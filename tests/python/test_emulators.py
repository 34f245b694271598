# SPDX-License-Identifier: Apache-2.0
"""xarch.emulators against a fake binfmt_misc (a temp dir) and a fake emulator folder."""

from __future__ import annotations

import faulthandler
import pathlib
import pickle
import sys
import threading
from typing import Any, Callable, List

import pytest

import xarch
from conftest import ARM64
from xarch import Platform, emulators


def test_options_defaults() -> None:
    options = emulators.Options()
    assert options.binfmt_mount == "/proc/sys/fs/binfmt_misc"
    assert options.qemu_dir == "/usr/bin"
    assert options.qemu_suffix == "-static"
    assert options.preserve_argv0 is False


def test_options_keywords_and_fields() -> None:
    options = emulators.Options(binfmt_mount="/x", qemu_suffix="", preserve_argv0=True)
    assert (options.binfmt_mount, options.qemu_dir) == ("/x", "/usr/bin")
    assert options.qemu_suffix == ""
    assert options.preserve_argv0 is True
    options.qemu_dir = "/opt/qemu"
    assert options.qemu_dir == "/opt/qemu"
    assert repr(options) == (
        "Options(binfmt_mount='/x', qemu_dir='/opt/qemu', qemu_suffix='', preserve_argv0=True)"
    )


def test_options_constructor_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        emulators.Options("/x")  # type: ignore[misc]
    with pytest.raises(TypeError):
        emulators.Options(binfmt_mount=1)  # type: ignore[arg-type]


def test_handlers_reads_the_fake_binfmt(fake_options: emulators.Options) -> None:
    handlers = emulators.handlers(fake_options)
    assert isinstance(handlers, list)
    assert [h.name for h in handlers] == ["qemu-aarch64"]
    handler = handlers[0]
    assert isinstance(handler, emulators.Handler)
    assert handler.enabled is True
    assert handler.interpreter == "/usr/bin/qemu-aarch64-static"
    assert handler.flags == "OCF"
    assert handler.offset == 0
    assert handler.magic == "7f454c460201010000000000000000000200b700"
    assert handler.mask == "ffffffffffffff00fffffffffffffffffeffffff"
    assert handler.extension == ""
    assert handler.platform == ARM64
    assert repr(handler).startswith("Handler(name='qemu-aarch64', enabled=True, ")
    assert "platform=Platform('linux/arm64')" in repr(handler)
    with pytest.raises(AttributeError):
        handler.enabled = False  # type: ignore[misc]


def test_handlers_disabled_and_unknown_entries(binfmt_dir: pathlib.Path) -> None:
    (binfmt_dir / "qemu-aarch64").write_text(
        (binfmt_dir / "qemu-aarch64").read_text().replace("enabled", "disabled")
    )
    (binfmt_dir / "wine").write_text(
        "enabled\ninterpreter /usr/bin/wine\nflags: \nextension .exe\n"
    )
    options = emulators.Options(binfmt_mount=str(binfmt_dir))
    handlers = {h.name: h for h in emulators.handlers(options)}
    assert set(handlers) == {"qemu-aarch64", "wine"}
    assert handlers["qemu-aarch64"].enabled is False
    assert handlers["wine"].platform is None
    assert handlers["wine"].extension == ".exe"


def test_list_reports_state(fake_options: emulators.Options, qemu_dir: pathlib.Path,
                            arm64_is_foreign: None) -> None:
    listed = emulators.list(fake_options)
    assert all(isinstance(e, emulators.Emulator) for e in listed)
    by_platform = {e.platform: e for e in listed}
    arm64 = by_platform[ARM64]
    assert arm64.name == "qemu-aarch64"
    assert arm64.path == str(qemu_dir / "qemu-aarch64-static")
    assert arm64.present is True
    assert arm64.registered is True
    assert repr(arm64).startswith("Emulator(platform=Platform('linux/arm64'), name='qemu-aarch64'")
    for emulator in listed:
        if emulator.platform != ARM64:
            assert emulator.registered is False
            assert emulator.present is False
    natives = set(emulators.native_platforms())
    assert not natives & set(by_platform)


def test_list_without_options_describes_the_host() -> None:
    for emulator in emulators.list():
        assert isinstance(emulator.platform, Platform)
        assert emulator.name.startswith("qemu-")


def test_native_platforms() -> None:
    natives = emulators.native_platforms()
    assert natives
    assert natives[0] == Platform.host()
    assert all(isinstance(p, Platform) for p in natives)


def test_runnable_platforms(fake_options: emulators.Options, arm64_is_foreign: None) -> None:
    natives = emulators.native_platforms()
    runnable = emulators.runnable_platforms(fake_options)
    assert runnable[: len(natives)] == natives
    assert ARM64 in runnable[len(natives):]
    assert len(set(runnable)) == len(runnable)


def test_runnable_platforms_without_handlers(binfmt_dir: pathlib.Path) -> None:
    (binfmt_dir / "qemu-aarch64").unlink()
    options = emulators.Options(binfmt_mount=str(binfmt_dir))
    assert emulators.handlers(options) == []
    assert emulators.runnable_platforms(options) == emulators.native_platforms()


@pytest.mark.parametrize("spec", ["bogus", "arm64,bogus", "linux/arm64/v8/extra", "arm64,,arm"])
def test_install_bad_spec_raises_parse_error(fake_options: emulators.Options, spec: str) -> None:
    with pytest.raises(xarch.ParseError) as raised:
        emulators.install(spec, fake_options)
    assert isinstance(raised.value, ValueError)
    assert raised.value.code == "invalid_argument"


def test_uninstall_bad_spec_raises_parse_error(fake_options: emulators.Options) -> None:
    with pytest.raises(xarch.ParseError):
        emulators.uninstall("bogus", fake_options)


def test_install_missing_emulator_is_not_found(binfmt_dir: pathlib.Path,
                                               tmp_path: pathlib.Path,
                                               arm64_is_foreign: None) -> None:
    options = emulators.Options(binfmt_mount=str(binfmt_dir), qemu_dir=str(tmp_path / "none"))
    with pytest.raises(xarch.NotFoundError) as raised:
        emulators.install("arm64", options)
    assert isinstance(raised.value, LookupError)
    assert raised.value.code == "not_found"


def test_install_native_platform_changes_nothing(fake_options: emulators.Options) -> None:
    host = Platform.host()
    changes = emulators.install(host.architecture, fake_options)
    assert len(changes) == 1
    change = changes[0]
    assert isinstance(change, emulators.Change)
    assert change.outcome == emulators.Outcome.NATIVE
    assert change.platform.architecture == host.architecture
    assert change.name.startswith("qemu-")
    assert repr(change).endswith("outcome=Outcome.NATIVE)")


def test_install_already_installed(fake_options: emulators.Options,
                                   binfmt_dir: pathlib.Path, arm64_is_foreign: None) -> None:
    before = (binfmt_dir / "register").read_text()
    changes = emulators.install("arm64", fake_options)
    assert [(c.name, c.platform, c.outcome) for c in changes] == [
        ("qemu-aarch64", ARM64, emulators.Outcome.ALREADY_INSTALLED)
    ]
    assert repr(changes[0]) == (
        "Change(name='qemu-aarch64', platform=Platform('linux/arm64'), "
        "outcome=Outcome.ALREADY_INSTALLED)"
    )
    assert (binfmt_dir / "register").read_text() == before


def test_uninstall_absent_handler(fake_options: emulators.Options) -> None:
    changes = emulators.uninstall("riscv64", fake_options)
    assert [(c.name, c.outcome) for c in changes] == [
        ("qemu-riscv64", emulators.Outcome.NOT_INSTALLED)
    ]
    assert changes[0].platform == Platform.parse("riscv64")


def test_outcome_enum() -> None:
    values = {
        "INSTALLED": 1,
        "ALREADY_INSTALLED": 2,
        "NATIVE": 3,
        "UNINSTALLED": 4,
        "NOT_INSTALLED": 5,
    }
    assert {name: int(member) for name, member in emulators.Outcome.__members__.items()} == values
    assert emulators.Outcome(3) == emulators.Outcome.NATIVE
    assert emulators.Outcome.NATIVE.name == "NATIVE"
    assert str(emulators.Outcome.INSTALLED) == "Outcome.INSTALLED"
    assert pickle.loads(pickle.dumps(emulators.Outcome.NATIVE)) == emulators.Outcome.NATIVE


def test_result_types_have_no_constructor() -> None:
    for cls in (emulators.Handler, emulators.Emulator, emulators.Change):
        with pytest.raises(TypeError):
            cls()


def _runs_without_the_gil(call: Callable[[], Any]) -> List[Any]:
    """Calls `call` in a loop on a worker thread until this thread sets `stop`, and returns the
    results.

    With a switch interval of an hour, a thread holding the GIL never hands it over on its own, and
    the worker's loop blocks nowhere else: this thread can only run (and set `stop`) while the
    worker is inside `call` with the GIL released. Were the GIL kept, this would hang, so a
    faulthandler watchdog ends the process instead.
    """
    stop = threading.Event()
    results: List[Any] = []

    def worker() -> None:
        while not stop.is_set():
            results.append(call())

    interval = sys.getswitchinterval()
    faulthandler.dump_traceback_later(120, exit=True)
    sys.setswitchinterval(3600)
    try:
        thread = threading.Thread(target=worker)
        thread.start()
        stop.set()
        thread.join()
    finally:
        sys.setswitchinterval(interval)
        faulthandler.cancel_dump_traceback_later()
    return results


def test_native_platforms_releases_the_gil() -> None:
    results = _runs_without_the_gil(emulators.native_platforms)
    assert results and all(r == results[0] for r in results)


@pytest.mark.parametrize("name", ["handlers", "list", "runnable_platforms"])
def test_binfmt_functions_release_the_gil(fake_options: emulators.Options, name: str) -> None:
    function = getattr(emulators, name)
    results = _runs_without_the_gil(lambda: function(fake_options))
    assert results


def test_install_releases_the_gil(fake_options: emulators.Options) -> None:
    host = Platform.host().architecture
    assert _runs_without_the_gil(lambda: emulators.install(host, fake_options))


def test_host_releases_the_gil() -> None:
    assert _runs_without_the_gil(Platform.host)
