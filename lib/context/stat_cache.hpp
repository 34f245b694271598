// SPDX-License-Identifier: Apache-2.0
// The persistent stat cache of context scans: for each regular file of one context directory, the
// digest it had when its (path, size, mtime ns, inode, mode) were as recorded, so that a re-scan
// hashes only what changed. One file per context under the cache directory, replaced atomically;
// a corrupt or foreign file is ignored and rewritten.
#pragma once

#include <xarch/digest.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace xarch::context {

// What must be unchanged for a cached digest to stand. BuildKit's file sync (fsutil) trusts size
// and mtime alone; the inode is added so that a file replaced by rename (what editors and `git
// checkout` do) is re-hashed even when it keeps its size and mtime.
struct StatKey {
    std::int64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::uint64_t inode = 0;
    std::uint32_t mode = 0;

    friend bool operator==(const StatKey&, const StatKey&) = default;
};

class StatCache {
public:
    // $XDG_CACHE_HOME/xarch, else $HOME/.cache/xarch, else <temp>/xarch-cache-<uid>.
    static std::filesystem::path default_directory();
    // The cache file of the context at `context_root` (canonical) under `cache_dir`.
    static std::filesystem::path file_for(const std::filesystem::path& cache_dir,
                                          const std::filesystem::path& context_root);

    // Loads `file` when it exists and is intact; anything else starts empty.
    explicit StatCache(std::filesystem::path file);

    // The digest recorded for `path` under exactly `key`.
    std::optional<Digest> lookup(const std::string& path, const StatKey& key) const;

    // Builds the next generation: the records of this scan, replacing all the loaded ones (so
    // that deleted files drop out). Not thread-safe; call from one thread.
    void keep(std::string path, const StatKey& key, Digest digest);

    // Writes the next generation (temporary file + rename) when it differs from what was loaded.
    // Throws Error(kIo) when the directory or file cannot be written.
    void save();

    bool was_corrupt() const { return corrupt_; }
    std::size_t loaded_size() const { return loaded_.size(); }
    const std::filesystem::path& file() const { return file_; }

    // The file format, exposed for tests: parse() returns nullopt for anything malformed.
    struct Record {
        StatKey key;
        Digest digest;
    };
    using Map = std::unordered_map<std::string, Record>;
    static std::string serialize(const std::vector<std::pair<std::string, Record>>& records);
    static std::optional<Map> parse(std::string_view content);

private:
    std::filesystem::path file_;
    Map loaded_;
    std::vector<std::pair<std::string, Record>> next_;
    bool corrupt_ = false;
    bool changed_ = false;
};

}  // namespace xarch::context
