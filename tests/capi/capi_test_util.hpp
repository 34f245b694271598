// SPDX-License-Identifier: Apache-2.0
// Helpers for the C API tests: RAII owners for xarch handles, the last error as std::string, and
// temporary directories. The tests see only <xarch.h> and link only libxarch (xarch::c).
#pragma once

#include <xarch.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <system_error>

namespace xarch_capi_test {

template <auto Free>
struct Deleter {
    template <class T>
    void operator()(T* handle) const noexcept {
        Free(handle);
    }
};

using PlatformPtr = std::unique_ptr<xarch_platform, Deleter<xarch_platform_free>>;
using PlatformListPtr = std::unique_ptr<xarch_platform_list, Deleter<xarch_platform_list_free>>;
using MatcherPtr = std::unique_ptr<xarch_platform_matcher, Deleter<xarch_platform_matcher_free>>;
using EmulatorListPtr = std::unique_ptr<xarch_emulator_list, Deleter<xarch_emulator_list_free>>;
using HandlerListPtr = std::unique_ptr<xarch_handler_list, Deleter<xarch_handler_list_free>>;
using ChangeListPtr =
    std::unique_ptr<xarch_emulator_change_list, Deleter<xarch_emulator_change_list_free>>;

inline int last_code() {
    return xarch_error_last()->code;
}
inline std::string last_message() {
    return xarch_error_last()->message;
}
inline std::string last_class() {
    return xarch_error_last()->class_name;
}
inline std::string str(const char* text) {
    return text == nullptr ? "<NULL>" : text;
}

// Parses `text`, failing the test when it does not parse.
inline PlatformPtr parse(const char* text) {
    xarch_platform* platform = nullptr;
    EXPECT_EQ(xarch_platform_parse(&platform, text), XARCH_OK) << text << ": " << last_message();
    return PlatformPtr(platform);
}

// A directory under TMPDIR, removed with everything in it at destruction.
class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "xarch-capi-XXXXXX");
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::system_error(errno, std::generic_category(), "mkdtemp");
        }
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::string operator/(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

inline void write_file(const std::string& path, const std::string& content) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace xarch_capi_test
