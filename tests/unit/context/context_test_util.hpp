// SPDX-License-Identifier: Apache-2.0
// Helpers for the BuildContext tests: a temporary tree to build contexts in, and the paths of
// scanned entries.
#pragma once

#include <xarch/context.hpp>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

namespace xarch_context_test {

namespace fs = std::filesystem;

class TempTree {
public:
    TempTree() {
        std::string tmpl = (fs::temp_directory_path() / "xarch-ctx-test-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            ADD_FAILURE() << "mkdtemp failed";
        }
        root_ = tmpl;
    }
    ~TempTree() {
        std::error_code ec;
        for (const fs::directory_entry& e : fs::recursive_directory_iterator(
                 root_, fs::directory_options::skip_permission_denied, ec)) {
            if (e.is_directory(ec) && !e.is_symlink(ec)) {
                fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::add, ec);
            }
        }
        fs::remove_all(root_, ec);
    }
    TempTree(const TempTree&) = delete;
    TempTree& operator=(const TempTree&) = delete;

    const fs::path& root() const { return root_; }
    fs::path operator/(const std::string& rel) const { return root_ / rel; }

    void dir(const std::string& rel) const { fs::create_directories(root_ / rel); }
    void file(const std::string& rel, const std::string& content = "x") const {
        fs::create_directories((root_ / rel).parent_path());
        std::ofstream(root_ / rel, std::ios::binary) << content;
    }
    void symlink(const std::string& target, const std::string& rel) const {
        fs::create_directories((root_ / rel).parent_path());
        fs::create_symlink(target, root_ / rel);
    }
    // Sets the mtime of `rel` to `seconds_ago` seconds before now, so that the stat cache does
    // not treat it as racily modified.
    void age(const std::string& rel, int seconds_ago = 3600) const {
        const auto now = std::chrono::system_clock::now().time_since_epoch();
        const auto secs = std::chrono::duration_cast<std::chrono::seconds>(now).count();
        set_mtime(rel, secs - seconds_ago, 0);
    }
    void set_mtime(const std::string& rel, long long sec, long nsec) const {
        struct timespec times[2] = {{static_cast<time_t>(sec), nsec},
                                    {static_cast<time_t>(sec), nsec}};
        ASSERT_EQ(::utimensat(AT_FDCWD, (root_ / rel).c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
    }
    // Ages every entry below the root.
    void age_all() const {
        for (const fs::directory_entry& e : fs::recursive_directory_iterator(root_)) {
            age(fs::relative(e.path(), root_).string());
        }
    }

private:
    fs::path root_;
};

inline std::vector<std::string> paths(const std::vector<xarch::ContextEntry>& entries) {
    std::vector<std::string> out;
    out.reserve(entries.size());
    for (const xarch::ContextEntry& e : entries) {
        out.push_back(e.path);
    }
    return out;
}

inline const xarch::ContextEntry* find(const std::vector<xarch::ContextEntry>& entries,
                                       const std::string& path) {
    for (const xarch::ContextEntry& e : entries) {
        if (e.path == path) {
            return &e;
        }
    }
    return nullptr;
}

}  // namespace xarch_context_test
