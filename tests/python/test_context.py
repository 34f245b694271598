# SPDX-License-Identifier: Apache-2.0
"""xarch.BuildContext: settings, ignore rules, scans with digests, tar contexts, COPY sources."""

from __future__ import annotations

import hashlib
import io
import os
import pathlib
import tarfile

import pytest

import xarch


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def ctx_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    root = tmp_path / "ctx"
    (root / "sub").mkdir(parents=True)
    (root / "node_modules" / "pkg").mkdir(parents=True)
    (root / "Dockerfile").write_text("FROM scratch\nCOPY . /\n")
    (root / ".dockerignore").write_text("node_modules\n*.log\n")
    (root / "a.txt").write_bytes(b"alpha\n")
    (root / "debug.log").write_text("log\n")
    (root / "sub" / "s.c").write_text("int s;\n")
    (root / "node_modules" / "pkg" / "index.js").write_text("x\n")
    (root / "link").symlink_to("a.txt")
    return root


def paths(entries: list[xarch.ContextEntry]) -> list[str]:
    return [e.path for e in entries]


def test_scan_lists_what_the_build_sees(ctx_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
    ctx = xarch.BuildContext(ctx_dir)
    assert ctx.directory == str(ctx_dir)
    assert ctx.dockerfile_path == str(ctx_dir / "Dockerfile")
    assert ctx.ignore_file == str(ctx_dir / ".dockerignore")
    entries = ctx.scan(cache_dir=tmp_path / "cache")
    assert paths(entries) == [".dockerignore", "Dockerfile", "a.txt", "link", "sub", "sub/s.c"]
    by_path = {e.path: e for e in entries}
    a = by_path["a.txt"]
    assert a.type == "file"
    assert a.digest == sha256(b"alpha\n")
    assert a.size == 6
    assert a.mode & 0o170000 == 0o100000
    assert a.mtime_ns == os.lstat(ctx_dir / "a.txt").st_mtime_ns
    assert by_path["link"].type == "symlink"
    assert by_path["link"].link_target == "a.txt"
    assert by_path["link"].digest is None
    assert by_path["sub"].type == "dir"
    assert "sha256:" in repr(a)
    # A second scan through the stat cache gives the same entries.
    assert ctx.scan(cache_dir=tmp_path / "cache") == entries
    assert ctx.scan(use_cache=False, threads=1) == entries


def test_settings(ctx_dir: pathlib.Path, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSH_AUTH_SOCK", "/run/agent.sock")
    token = tmp_path / "token"
    token.write_text("s3cret")
    (tmp_path / "deps").mkdir()
    ctx = xarch.BuildContext(
        ctx_dir,
        dockerfile_text="FROM stdin\n",
        build_args={"VERSION": "1.2"},
        labels={"org.opencontainers.image.title": "demo"},
        target="release",
        named_contexts={"deps": str(tmp_path / "deps"), "alpine": "docker-image://alpine:3.19"},
        secrets=[f"id=tok,src={token}", "id=api,env=API_TOKEN"],
        ssh=["default"],
    )
    assert ctx.dockerfile_text() == "FROM stdin\n"
    assert ctx.dockerfile_path is None
    assert ctx.build_args == {"VERSION": "1.2"}
    assert ctx.labels == {"org.opencontainers.image.title": "demo"}
    assert ctx.target == "release"
    assert ctx.named_contexts == {
        "deps": str(tmp_path / "deps"),
        "alpine": "docker-image://alpine:3.19",
    }
    assert ctx.secrets == {"tok": ("file", str(token)), "api": ("env", "API_TOKEN")}
    assert ctx.ssh == {"default": ["/run/agent.sock"]}
    assert not ctx.is_tar


def test_dockerfile_specific_ignore_file_wins(ctx_dir: pathlib.Path) -> None:
    (ctx_dir / "docker").mkdir()
    (ctx_dir / "docker" / "app.Dockerfile").write_text("FROM x\n")
    (ctx_dir / "docker" / "app.Dockerfile.dockerignore").write_text("sub\n*.txt\n")
    ctx = xarch.BuildContext(ctx_dir, dockerfile=ctx_dir / "docker" / "app.Dockerfile")
    assert ctx.ignore_file == str(ctx_dir / "docker" / "app.Dockerfile.dockerignore")
    found = paths(ctx.scan(use_cache=False))
    assert "sub" not in found and "a.txt" not in found
    assert "node_modules/pkg/index.js" in found and "debug.log" in found
    assert "docker/app.Dockerfile" in found


def test_bad_input_is_quoted(ctx_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
    with pytest.raises(xarch.NotFoundError, match="is not a directory"):
        xarch.BuildContext(tmp_path / "missing")
    with pytest.raises(xarch.NotFoundError, match=r"Dockerfile \".*nope\" not found"):
        xarch.BuildContext(ctx_dir, dockerfile=tmp_path / "nope")
    with pytest.raises(xarch.ParseError, match='"bogus" must be a key=value pair'):
        xarch.BuildContext(ctx_dir, secrets=["id=x,bogus"])

    with pytest.raises(ValueError, match="unsupported secret type"):
        xarch.BuildContext(ctx_dir, secrets=["id=x,type=vault"])
    with pytest.raises(xarch.ParseError, match=r"invalid context name \"Bad Name\""):
        xarch.BuildContext(ctx_dir, named_contexts={"Bad Name": "."})
    ctx = xarch.BuildContext(ctx_dir)
    with pytest.raises(xarch.ParseError, match="scan"):
        ctx.resolve_copy_sources(["a.txt"])


def test_resolve_copy_sources(ctx_dir: pathlib.Path) -> None:
    ctx = xarch.BuildContext(ctx_dir)
    ctx.scan(use_cache=False)
    resolved = ctx.resolve_copy_sources(["a.txt", "sub", "*.c", "link"], "/dst/")
    assert [(source, paths(entries)) for source, entries in resolved] == [
        ("a.txt", ["a.txt"]),
        ("sub", ["sub", "sub/s.c"]),
        ("*.c", []),
        ("link", ["a.txt"]),
    ]
    assert resolved[0][1][0].digest == sha256(b"alpha\n")
    with pytest.raises(xarch.NotFoundError, match='"/nope": not found'):
        ctx.resolve_copy_sources(["nope"])
    with pytest.raises(xarch.NotFoundError, match='"/debug.log": not found'):
        ctx.resolve_copy_sources(["debug.log"])  # ignored
    with pytest.raises(xarch.ParseError, match="outside the build context"):
        ctx.resolve_copy_sources(["../etc/passwd"])
    with pytest.raises(xarch.ParseError, match="end with a /"):
        ctx.resolve_copy_sources(["a.txt", "sub"], "/file")


def _tar_of(root: pathlib.Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(root, arcname=".")
    return buf.getvalue()


def test_tar_context(ctx_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
    archive = tmp_path / "ctx.tgz"
    archive.write_bytes(_tar_of(ctx_dir))
    for source in (archive, str(archive)):
        ctx = xarch.BuildContext.from_tar(source)
        assert ctx.is_tar
        assert ctx.dockerfile_text() == "FROM scratch\nCOPY . /\n"
        assert paths(ctx.scan()) == paths(xarch.BuildContext(ctx_dir).scan(use_cache=False))
        extracted = pathlib.Path(ctx.directory)
        assert extracted.is_dir()
        del ctx
        assert not extracted.exists()
    with open(archive, "rb") as f:
        assert len(xarch.BuildContext.from_tar(f).scan()) == 6


def test_hostile_tar_is_refused(tmp_path: pathlib.Path) -> None:
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("../evil")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(xarch.ParseError, match=r'"\.\./evil"'):
        xarch.BuildContext.from_tar(archive)
    assert not (tmp_path.parent / "evil").exists()
    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(b"\x07" * 3000)
    with pytest.raises(xarch.ParseError):
        xarch.BuildContext.from_tar(garbage)
