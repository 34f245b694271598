# SPDX-License-Identifier: Apache-2.0
"""xarch.BuilderStore: the builders of `xarch create/use/rm/ls`, in a temporary store, and their
nodes inspected (this host's embedded node; an engine whose socket is missing)."""

import threading

import pytest

import xarch


@pytest.fixture
def store(tmp_path):
    return xarch.BuilderStore(tmp_path)


def test_an_empty_store_has_the_default_builder_only(store, tmp_path):
    assert store.file == str(tmp_path / "builders.json")
    assert [b.name for b in store.list()] == ["default"]
    assert store.current_name == "default"
    default = store.current()
    assert default.driver == "embedded"
    assert [(n.driver, n.endpoint, n.platforms) for n in default.nodes] == [("embedded", "", [])]


def test_create_append_use_remove_node_and_remove(store, tmp_path):
    first = f"unix://{tmp_path}/first.sock"
    second = f"unix://{tmp_path}/second.sock"
    made = store.create(name="engines", endpoint=first, platforms="amd64")
    assert made.name == "engines" and made.driver == "docker"
    assert [(n.name, n.endpoint, n.platforms) for n in made.nodes] == [
        ("engines0", first, [xarch.Platform.parse("linux/amd64")])]

    with pytest.raises(xarch.AlreadyExistsError, match="engines"):
        store.create(name="engines", endpoint=second)
    with pytest.raises(xarch.ParseError, match="first.sock"):
        store.create(name="engines", endpoint=first, append=True)
    with pytest.raises(xarch.NotFoundError):
        store.create(name="nosuch", endpoint=second, append=True)

    both = store.create(name="engines", endpoint=second, platforms=["arm64", "arm"], append=True,
                        use=True)
    assert [n.name for n in both.nodes] == ["engines0", "engines1"]
    assert [str(p) for p in both.nodes[1].platforms] == ["linux/arm64", "linux/arm/v7"]
    assert store.current_name == "engines"
    assert store.get("engines") == both
    # Another store object on the same folder reads the same file.
    assert xarch.BuilderStore(tmp_path).current() == both

    with pytest.raises(xarch.NotFoundError, match="engines0, engines1"):
        store.remove_node("engines", "nope")
    left = store.remove_node("engines", "engines0")
    assert [n.name for n in left.nodes] == ["engines1"]

    with pytest.raises(xarch.ParseError, match="default"):
        store.remove("default")
    store.remove("engines")
    assert [b.name for b in store.list()] == ["default"]
    assert store.current_name == "default"
    with pytest.raises(xarch.NotFoundError, match="engines"):
        store.use("engines")


def test_bad_names_and_drivers_are_refused_quoting_them(store):
    with pytest.raises(xarch.ParseError, match="Bad Name"):
        store.create(name="Bad Name")
    with pytest.raises(xarch.ParseError, match="kubernetes"):
        store.create(name="fine", driver="kubernetes")
    with pytest.raises(xarch.ParseError):
        store.create(name="fine", driver="embedded", endpoint="unix:///var/run/docker.sock")
    with pytest.raises(xarch.NotFoundError, match="nope"):
        store.get("nope")
    assert [b.name for b in store.list()] == ["default"]


def test_a_damaged_file_is_an_error_naming_it(store, tmp_path):
    (tmp_path / "builders.json").write_text("{not json")
    with pytest.raises(xarch.Error, match="builders.json"):
        store.list()


def test_nodes_are_inspected_as_xarch_ls_does(store, tmp_path):
    status = store.get("default").nodes[0].inspect()
    assert status.running and status.status == "running" and status.error == ""
    assert status.version == xarch.version()
    assert xarch.Platform.host() in status.native
    assert isinstance(status.emulated, list)

    gone = store.create(name="gone", endpoint=f"unix://{tmp_path}/no-engine.sock",
                        platforms="arm64")
    down = gone.nodes[0].inspect()
    assert not down.running and down.status == "error"
    assert "no-engine.sock" in down.error


def test_threads_creating_in_one_store_keep_each_others_builders(store, tmp_path):
    failures = []

    def create_five(t):
        for i in range(5):
            try:
                store.create(name=f"t{t}-{i}", endpoint=f"unix://{tmp_path}/t{t}-{i}.sock")
            except xarch.Error as error:
                failures.append(error)

    threads = [threading.Thread(target=create_five, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len({b.name for b in store.list()}) == 4 * 5 + 1
