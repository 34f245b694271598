# SPDX-License-Identifier: Apache-2.0
"""Builds the xarch wheel: runs CMake on the repository root for the extension xarch._core."""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

PACKAGE_ROOT = Path(__file__).resolve().parent
SOURCE_ROOT = PACKAGE_ROOT.parent.parent
# Everything the build writes stays under here (bindings/python/build), never in the
# repository's own build directories.
BUILD_ROOT = PACKAGE_ROOT / "build"


def read_version() -> str:
    header = (SOURCE_ROOT / "include" / "xarch" / "version.hpp").read_text(encoding="utf-8")
    parts = []
    for name in ("MAJOR", "MINOR", "PATCH"):
        match = re.search(rf"^#define XARCH_VERSION_{name} (\d+)$", header, re.MULTILINE)
        if match is None:
            raise RuntimeError(f"include/xarch/version.hpp has no '#define XARCH_VERSION_{name} N'")
        parts.append(match.group(1))
    return ".".join(parts)


class CMakeBuild(build_ext):
    """Builds the CMake target xarch_python and puts its _core*.so where the wheel takes it."""

    def build_extension(self, ext: Extension) -> None:
        # One CMake tree per interpreter installation (venvs of it share one): Debian's 3.11.2 and
        # a pyenv 3.11.7 have the same ABI tag but different headers. Their objects still come
        # from ccache, the flags of the C++ core being the same.
        tag = sysconfig.get_config_var("SOABI") or f"py{sys.version_info[0]}{sys.version_info[1]}"
        install = hashlib.sha1(os.path.realpath(sys.base_prefix).encode()).hexdigest()[:8]
        cmake_dir = BUILD_ROOT / f"cmake-{tag}-{install}"
        configure = [
            "cmake", "-S", str(SOURCE_ROOT), "-B", str(cmake_dir), "-G", "Ninja",
            f"-DPython_EXECUTABLE={sys.executable}",
            "-DCMAKE_BUILD_TYPE=Release",
            "-DXARCH_BUILD_TESTS=OFF",
            "-DXARCH_INSTALL=OFF",
            # The CLI library (examples/cli) is what `python -m xarch` runs; only the targets
            # xarch_python needs get built below.
            "-DXARCH_BUILD_EXAMPLES=ON",
            "-DXARCH_BUILD_PYTHON=ON",
        ]
        if shutil.which("ninja") is None:
            configure[configure.index("-G"):configure.index("-G") + 2] = []
        env = dict(os.environ)
        if shutil.which("ccache") is not None:
            configure += ["-DCMAKE_C_COMPILER_LAUNCHER=ccache",
                          "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"]
            # Paths under the source root are hashed relative, so the objects compiled in another
            # build directory (scripts/build, another interpreter's tree) are cache hits.
            env.setdefault("CCACHE_BASEDIR", str(SOURCE_ROOT))
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)
        subprocess.run(configure, check=True, env=env)
        subprocess.run(["cmake", "--build", str(cmake_dir), "--target", "xarch_python",
                        "--parallel", jobs], check=True, env=env)

        built = sorted((cmake_dir / "python" / "xarch").glob("_core*.so"))
        if len(built) != 1:
            raise RuntimeError(f"expected one _core*.so in {cmake_dir / 'python' / 'xarch'}, "
                               f"found {[p.name for p in built]}")
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[0], target)


BUILD_ROOT.mkdir(exist_ok=True)
setup(
    version=read_version(),
    packages=["xarch"],
    package_data={"xarch": ["*.pyi", "py.typed"]},
    ext_modules=[Extension("xarch._core", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    zip_safe=False,
    # egg-info in build/ too, not next to the sources.
    options={"egg_info": {"egg_base": str(BUILD_ROOT)}},
)
