// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the cache tests: a real layer blob in a cache's content store, running a
// function in a forked process, file times.
#pragma once

#include "cache/cache.hpp"
#include "layer/unpack.hpp"
#include "layer/writer.hpp"
#include "unit/layer/layer_test_util.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace xarch::cache::test {

using layer::test::TempDir;

// A layer with nested, read-only and hard-linked files, written into the cache's content store.
inline layer::LayerBlob store_layer(Cache& cache, std::uint32_t seed) {
    std::vector<layer::Entry> entries;
    entries.push_back(layer::test::make_entry("etc", layer::EntryType::kDirectory, 0555));
    entries.push_back(layer::test::file_entry("etc/hostname", "host-" + std::to_string(seed)));
    entries.push_back(layer::test::make_entry("usr", layer::EntryType::kDirectory, 0755));
    entries.push_back(layer::test::make_entry("usr/bin", layer::EntryType::kDirectory, 0500));
    entries.push_back(
        layer::test::file_entry("usr/bin/tool", layer::test::mixed_bytes(300'000, seed), 0555));
    entries.push_back(layer::test::make_entry("usr/bin/alias", layer::EntryType::kHardlink));
    entries.back().link_target = "usr/bin/tool";
    entries.push_back(layer::test::make_entry("link", layer::EntryType::kSymlink, 0777));
    entries.back().link_target = "usr/bin/tool";
    return layer::write_layer(cache.content(), entries, layer::WriteOptions{});
}

// What Cache::unpacked() is given in a build: layer::unpack_layer on the stored blob.
inline Cache::Unpack unpack_from(Cache& cache, const layer::LayerBlob& blob) {
    return [&cache, blob](const std::filesystem::path& dir) {
        auto data =
            std::make_shared<std::string>(cache.content().read_blob(blob.descriptor.digest));
        auto offset = std::make_shared<std::size_t>(0);
        BlobReader reader = [data, offset](std::span<std::byte> buffer) {
            const std::size_t n = std::min(buffer.size(), data->size() - *offset);
            std::memcpy(buffer.data(), data->data() + *offset, n);
            *offset += n;
            return n;
        };
        return layer::unpack_layer(reader, dir, blob.diff_id);
    };
}

// Runs `body` in a child process; the child's exit status is body's return value (1 when it
// throws). Returns the child's pid.
inline pid_t spawn(const std::function<int()>& body) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        int status = 1;
        try {
            status = body();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "child failed: %s\n", e.what());
        }
        ::_exit(status);
    }
    return pid;
}

// The child's exit status, -1 when it did not exit normally.
inline int wait_for(pid_t pid) {
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
        return -1;
    }
    return WEXITSTATUS(status);
}

// Sets a file's modification time, seconds since the epoch.
inline void set_mtime(const std::filesystem::path& file, std::int64_t seconds) {
    const struct timespec times[2] = {{seconds, 0}, {seconds, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, file.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << file;
}

inline std::int64_t mtime(const std::filesystem::path& file) {
    struct stat st {};
    return ::lstat(file.c_str(), &st) == 0 ? st.st_mtim.tv_sec : -1;
}

inline std::size_t count_children(const std::filesystem::path& dir) {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) {
        ++n;
    }
    return n;
}

}  // namespace xarch::cache::test
