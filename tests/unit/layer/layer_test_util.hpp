// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the layer tests: temporary directories, entries, running the tar, gzip and
// zstd tools, and reading files and blobs.
#pragma once

#include "layer/entry.hpp"

#include <xarch/digest.hpp>
#include <xarch/oci_layout.hpp>

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace xarch::layer::test {

class TempDir {
public:
    TempDir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "xarch-layer-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        // Extracted trees may hold read-only directories.
        std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::add, ec);
        for (auto it = std::filesystem::recursive_directory_iterator(path_, ec);
             it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
            if (it->is_directory(ec) && !it->is_symlink(ec)) {
                std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all,
                                             std::filesystem::perm_options::add, ec);
            }
        }
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

inline Entry make_entry(std::string path, EntryType type, std::uint32_t mode = 0644) {
    Entry entry;
    entry.path = std::move(path);
    entry.type = type;
    entry.mode = mode;
    entry.mtime_ns = 1'700'000'000'123'456'789;
    return entry;
}

inline Entry file_entry(std::string path, std::string data, std::uint32_t mode = 0644) {
    Entry entry = make_entry(std::move(path), EntryType::kRegular, mode);
    entry.size = static_cast<std::int64_t>(data.size());
    entry.data = std::move(data);
    return entry;
}

inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

inline void write_file(const std::filesystem::path& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary);
    out << data;
}

// Runs a shell command; returns its standard output and sets `status`.
inline std::string run(const std::string& command, int& status) {
    std::string out;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) {
        status = -1;
        return out;
    }
    char buffer[65536];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
        out.append(buffer, n);
    }
    status = ::pclose(pipe);
    return out;
}

inline bool have_tool(const std::string& name) {
    int status = 0;
    run("command -v " + name + " >/dev/null 2>&1", status);
    return status == 0;
}

// Pseudo-random bytes that compress somewhat, as real files do: runs of words and noise.
inline std::string mixed_bytes(std::size_t size, std::uint32_t seed) {
    std::string out;
    out.reserve(size);
    std::uint32_t state = seed * 2654435761U + 1;
    static const char* kWords[] = {"layer ", "build ", "xarch ", "{\"key\": ", "0123456789", "\n"};
    while (out.size() < size) {
        state = state * 1664525U + 1013904223U;
        if ((state >> 28) < 10) {
            out += kWords[(state >> 8) % 6];
        } else {
            out.push_back(static_cast<char>(state >> 16));
        }
    }
    out.resize(size);
    return out;
}

inline BlobReader string_reader(const std::string& data) {
    auto offset = std::make_shared<std::size_t>(0);
    return [&data, offset](std::span<std::byte> buffer) {
        const std::size_t n = std::min(buffer.size(), data.size() - *offset);
        std::memcpy(buffer.data(), data.data() + *offset, n);
        *offset += n;
        return n;
    };
}

}  // namespace xarch::layer::test
