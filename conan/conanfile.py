# SPDX-License-Identifier: Apache-2.0
"""Conan 2 recipe for xarch: `conan create conan/` from the repository root.

The sources are the repository itself (the recipe sits in conan/), so the recipe exports the
tree one level up. Tests, examples and the Python extension are not part of the package.
"""
import os

from conan import ConanFile
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.files import copy, load
import re


class XarchConan(ConanFile):
    name = "xarch"
    license = "Apache-2.0"
    description = "Multi-architecture container image builds from a Dockerfile, as a library"
    topics = ("containers", "oci", "dockerfile", "buildx", "multi-arch")
    settings = "os", "arch", "compiler", "build_type"
    package_type = "library"

    def set_version(self):
        header = load(self, os.path.join(self.recipe_folder, "..", "include", "xarch", "version.hpp"))
        parts = [re.search(rf"#define XARCH_VERSION_{p} (\d+)", header).group(1)
                 for p in ("MAJOR", "MINOR", "PATCH")]
        self.version = ".".join(parts)

    def export_sources(self):
        top = os.path.join(self.recipe_folder, "..")
        for pattern in ("CMakeLists.txt", "LICENSE", "cmake/*", "include/*", "lib/*", "capi/*"):
            copy(self, pattern, src=top, dst=self.export_sources_folder)

    def requirements(self):
        self.requires("boost/[>=1.81 <2]")
        self.requires("openssl/[>=3 <4]")
        self.requires("libcurl/[>=7.88 <9]")
        self.requires("libarchive/[>=3.6 <4]")
        self.requires("zlib/[>=1.2.13 <2]")
        self.requires("zstd/[>=1.5 <2]")

    def layout(self):
        cmake_layout(self)

    def generate(self):
        CMakeDeps(self).generate()
        toolchain = CMakeToolchain(self)
        toolchain.cache_variables["XARCH_BUILD_TESTS"] = False
        toolchain.cache_variables["XARCH_BUILD_EXAMPLES"] = False
        toolchain.cache_variables["XARCH_BUILD_PYTHON"] = False
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
