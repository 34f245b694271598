# SPDX-License-Identifier: Apache-2.0
"""Conan test_package: builds the same downstream project as the package test
(tests/package/consumer) against the created package and runs it."""
import os

from conan import ConanFile
from conan.tools.build import can_run
from conan.tools.cmake import CMake, cmake_layout


class XarchTestConan(ConanFile):
    settings = "os", "arch", "compiler", "build_type"
    generators = "CMakeDeps", "CMakeToolchain"

    def requirements(self):
        self.requires(self.tested_reference_str)

    def layout(self):
        cmake_layout(self, src_folder=os.path.join("..", "..", "tests", "package", "consumer"))

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def test(self):
        if can_run(self):
            for program in ("consumer_cpp", "consumer_c"):
                self.run(os.path.join(self.cpp.build.bindir, program), env="conanrun")
