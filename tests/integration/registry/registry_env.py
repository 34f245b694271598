# SPDX-License-Identifier: Apache-2.0
"""The shared test registries, for pytest suites (see README.md beside this file).

    import registry_env
    reg = registry_env.require()        # pytest.skip() with the reason when there are none
    reg.plain, reg.tls, reg.token       # "127.0.0.1:PORT"
    rule = reg.add_fault("status500", path=r"/v2/mytest/.*/blobs/")
    reg.remove_fault(rule)

The env file is named by XARCH_TEST_REGISTRY_ENV, which ctest sets for the tests that require the
`registry` fixture.
"""

from __future__ import annotations

import json
import os
import pathlib
import urllib.request

ENV_VAR = "XARCH_TEST_REGISTRY_ENV"


class RegistryEnv:
    """The KEY=VALUE lines of the env file; every key is also in `values`."""

    def __init__(self, path: pathlib.Path, values: dict[str, str]):
        self.path = path
        self.values = values

    def __getitem__(self, key: str) -> str:
        return self.values[key]

    def get(self, key: str, default: str = "") -> str:
        return self.values.get(key, default)

    # The registries, as HOST:PORT.
    plain = property(lambda self: self["XARCH_TEST_REGISTRY"])
    tls = property(lambda self: self["XARCH_TEST_REGISTRY_TLS"])
    token = property(lambda self: self["XARCH_TEST_REGISTRY_TOKEN"])
    fault_proxy = property(lambda self: self["XARCH_TEST_FAULT_PROXY"])
    # TLS and credentials.
    tls_ca = property(lambda self: self["XARCH_TEST_REGISTRY_TLS_CA"])
    tls_cert_dir = property(lambda self: self["XARCH_TEST_REGISTRY_TLS_CERT_DIR"])
    user = property(lambda self: self["XARCH_TEST_REGISTRY_USER"])
    password = property(lambda self: self["XARCH_TEST_REGISTRY_PASSWORD"])
    # The token issuer.
    token_realm = property(lambda self: self["XARCH_TEST_TOKEN_REALM"])
    token_service = property(lambda self: self["XARCH_TEST_TOKEN_SERVICE"])
    token_issuer = property(lambda self: self["XARCH_TEST_TOKEN_ISSUER"])
    token_cert = property(lambda self: self["XARCH_TEST_TOKEN_CERT"])
    fault_control = property(lambda self: self["XARCH_TEST_FAULT_CONTROL"])
    # The seeded busybox index.
    busybox_oci = property(lambda self: self["XARCH_TEST_BUSYBOX_OCI"])
    busybox_repo = property(lambda self: self["XARCH_TEST_BUSYBOX_REPO"])
    busybox_tag = property(lambda self: self["XARCH_TEST_BUSYBOX_TAG"])
    busybox_index_digest = property(lambda self: self["XARCH_TEST_BUSYBOX_INDEX_DIGEST"])

    def busybox_manifest(self, platform: str) -> str:
        """The digest of the seeded manifest for "linux/amd64", "linux/arm64" or "linux/arm/v7"."""
        return self["XARCH_TEST_BUSYBOX_MANIFEST_" + platform.replace("/", "_").upper()]

    # Fault proxy control.
    def add_fault(self, kind: str, path: str | None = None, method: str | None = None,
                  count: int = 1, **fields) -> int:
        """Adds a rule (kinds in fault_proxy.py); returns its id."""
        rule = {"kind": kind, "count": count, **fields}
        if path is not None:
            rule["path"] = path
        if method is not None:
            rule["method"] = method
        return _call("POST", self.fault_control, rule)["id"]

    def remove_fault(self, rule_id: int) -> None:
        _call("DELETE", f"{self.fault_control}/{rule_id}")

    def faults(self) -> dict:
        """{"rules": active rules, "applied": faults applied so far}."""
        return _call("GET", self.fault_control)

    def proxy_log(self) -> list[dict]:
        """The requests the fault proxy served: method, path, status, fault."""
        return _call("GET", f"http://{self.fault_proxy}/__log")

    def token_log(self) -> list[dict]:
        """The tokens the issuer gave: user, service, scopes asked, access granted, expires_in."""
        return _call("GET", f"{self.token_issuer}/__log")


# Loopback only: never through an http_proxy from the environment.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _call(method: str, url: str, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with _opener.open(request, timeout=10) as reply:
        raw = reply.read()
    return json.loads(raw) if raw else None


def load_or_reason() -> tuple[RegistryEnv | None, str]:
    """(the env, "") or (None, why not)."""
    name = os.environ.get(ENV_VAR)
    if not name:
        return None, (f"{ENV_VAR} is not set: the shared test registries run only under ctest "
                      f"for tests that require the `registry` fixture "
                      f"(ctest -L integration -R registry)")
    path = pathlib.Path(name)
    try:
        text = path.read_text()
    except OSError as e:
        return None, (f"{ENV_VAR}={name} cannot be read ({e.strerror}): the registry_start "
                      f"fixture did not run or failed (see its output)")
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            values[key.strip()] = value
    required = ("XARCH_TEST_REGISTRY", "XARCH_TEST_BUSYBOX_INDEX_DIGEST")
    missing = [k for k in required if k not in values]
    if missing:
        return None, f"{name} lacks {', '.join(missing)}: registry_start did not finish"
    return RegistryEnv(path, values), ""


def load() -> RegistryEnv | None:
    return load_or_reason()[0]


def require() -> RegistryEnv:
    """The env, or pytest.skip() with the reason."""
    env, why = load_or_reason()
    if env is None:
        import pytest

        pytest.skip(why)
    return env
