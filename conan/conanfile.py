# SPDX-License-Identifier: Apache-2.0
"""Conan 2 recipe for xarch: `conan create conan/` from the repository root.

The sources are the repository itself (the recipe sits in conan/), so the recipe exports the
tree one level up. Each option is the CMake option of the same name (`build_python` is
XARCH_BUILD_PYTHON): tests/package/conan_recipe checks in CI that the two lists stay the same,
and that each dependency is the ConanCenter package of what CMakeLists.txt finds, from the same
lowest version. By default the package is the libraries and headers only.
"""
import os
import re

from conan import ConanFile
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.gnu import PkgConfigDeps
from conan.tools.files import copy, load


class XarchConan(ConanFile):
    name = "xarch"
    license = "Apache-2.0"
    description = "Multi-architecture container image builds from a Dockerfile, as a library"
    topics = ("containers", "oci", "dockerfile", "buildx", "multi-arch")
    settings = "os", "arch", "compiler", "build_type"
    package_type = "library"
    # The CMake options (CMakeLists.txt), by their names without the XARCH_ prefix, lower case.
    # XARCH_INSTALL is not one: a package is always installed.
    options = {
        "build_tests": [True, False],
        "build_examples": [True, False],
        "build_python": [True, False],
        "werror": [True, False],
        "sanitize": ["ANY"],
    }
    default_options = {
        "build_tests": False,
        "build_examples": False,
        "build_python": False,
        "werror": False,
        "sanitize": "",
    }

    def set_version(self):
        header = load(self, os.path.join(self.recipe_folder, "..", "include", "xarch", "version.hpp"))
        parts = [re.search(rf"#define XARCH_VERSION_{p} (\d+)", header).group(1)
                 for p in ("MAJOR", "MINOR", "PATCH")]
        self.version = ".".join(parts)

    def export_sources(self):
        top = os.path.join(self.recipe_folder, "..")
        for pattern in ("CMakeLists.txt", "LICENSE", "cmake/*", "include/*", "lib/*", "capi/*",
                        "examples/*", "bindings/*", "tests/*"):
            copy(self, pattern, src=top, dst=self.export_sources_folder,
                 excludes=("build*", "*/build*", "*/__pycache__/*"))

    def requirements(self):
        self.requires("boost/[>=1.81 <2]")
        self.requires("openssl/[>=3 <4]")
        self.requires("libcurl/[>=7.88 <9]")
        self.requires("libarchive/[>=3.6 <4]")
        self.requires("zlib/[>=1.2.13 <2]")
        self.requires("zstd/[>=1.5 <2]")
        if self.options.build_python:
            self.requires("pybind11/[>=2.10 <3]")

    def build_requirements(self):
        if self.options.build_tests:
            self.test_requires("gtest/[>=1.12 <2]")

    def layout(self):
        cmake_layout(self)

    def generate(self):
        CMakeDeps(self).generate()
        # CMakeLists.txt finds libzstd with pkg-config, as Debian ships it.
        PkgConfigDeps(self).generate()
        toolchain = CMakeToolchain(self)
        for name in self.default_options:
            value = self.options.get_safe(name)
            toolchain.cache_variables["XARCH_" + name.upper()] = (
                str(value) if name == "sanitize" else bool(value))
        toolchain.cache_variables["XARCH_INSTALL"] = True
        toolchain.generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        CMake(self).install()

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "xarch")
        self.cpp_info.set_property("pkg_config_name", "xarch")
        cpp = self.cpp_info.components["cpp"]
        cpp.set_property("cmake_target_name", "xarch::cpp")
        cpp.libs = ["xarch_cpp"]
        cpp.requires = ["boost::json", "openssl::openssl", "libcurl::libcurl",
                        "libarchive::libarchive", "zlib::zlib", "zstd::zstd"]
        cpp.system_libs = ["pthread"]
        c = self.cpp_info.components["c"]
        c.set_property("cmake_target_name", "xarch::c")
        c.libs = ["xarch"]
