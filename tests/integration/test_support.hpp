// SPDX-License-Identifier: Apache-2.0
// What the integration tests share: files written and read whole, shell commands run with their
// output captured (independent clients: skopeo, umoci, docker), and the message of an error.
#pragma once

#include <xarch/error.hpp>

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>

namespace xarch::test {

// Writes `content` to `path`, creating its parent folders.
inline void write_file(const std::filesystem::path& path, std::string_view content) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out << content;
}

inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// A folder for the running test alone, emptied: <temp>/<prefix>_<pid>_<test name>.
inline std::filesystem::path fresh_test_dir(std::string_view prefix) {
    const std::filesystem::path dir =
        std::filesystem::path(::testing::TempDir()) /
        (std::string(prefix) + "_" + std::to_string(::getpid()) + "_" +
         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

// Runs a shell command; its output (stdout and stderr). Without status_out a nonzero status is
// a test failure naming the command and its output.
inline std::string run(const std::string& command, int* status_out = nullptr) {
    static std::atomic<int> counter{0};
    const std::string out_file = ::testing::TempDir() + "/xarch_integration_cmd_" +
                                 std::to_string(::getpid()) + "_" + std::to_string(++counter);
    const int status = std::system((command + " > " + out_file + " 2>&1").c_str());
    std::string out = read_file(out_file);
    std::filesystem::remove(out_file);
    if (status_out != nullptr) {
        *status_out = status;
    } else {
        EXPECT_EQ(status, 0) << command << "\n" << out;
    }
    return out;
}

// The message of the xarch::Error `f` throws; a test failure when it throws none.
inline std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    ADD_FAILURE() << "no error";
    return {};
}

// The same, and the error's code must be `expected`.
inline std::string error_of(const std::function<void()>& f, ErrorCode expected) {
    try {
        f();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), expected) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "no error";
    return {};
}

}  // namespace xarch::test
