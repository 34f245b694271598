// SPDX-License-Identifier: Apache-2.0
// The copy-based snapshot diff: walks a root filesystem directory against the lower view and
// returns the entries an overlay upper directory would have held.
#include "snapshot/tree_diff.hpp"

#include "snapshot/upper_diff.hpp"

#include <xarch/error.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <utility>

namespace xarch::snapshot {
namespace {

namespace fs = std::filesystem;
using layer::Entry;
using layer::EntryType;

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;

std::string join(const std::string& dir, const std::string& name) {
    return dir.empty() ? name : dir + "/" + name;
}

std::string parent_of(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

bool same_bytes(const fs::path& a, const fs::path& b) {
    std::ifstream in_a(a, std::ios::binary);
    std::ifstream in_b(b, std::ios::binary);
    if (!in_a || !in_b) {
        throw Error(ErrorCode::kIo, "cannot open '" + (in_a ? b : a).string() +
                                        "' to compare it; check that the snapshot is readable");
    }
    std::array<char, 64 * 1024> buf_a{};
    std::array<char, 64 * 1024> buf_b{};
    for (;;) {
        in_a.read(buf_a.data(), buf_a.size());
        in_b.read(buf_b.data(), buf_b.size());
        const std::streamsize got_a = in_a.gcount();
        if (got_a != in_b.gcount() ||
            std::memcmp(buf_a.data(), buf_b.data(), static_cast<std::size_t>(got_a)) != 0) {
            return false;
        }
        if (got_a == 0) {
            return true;
        }
    }
}

class Differ {
public:
    Differ(const layer::MergedView& lower, const fs::path& rootfs)
        : lower_(lower), rootfs_(rootfs) {}

    std::vector<Entry> run() {
        walk("");
        add_whiteouts();
        add_parents();
        return pair_hardlinks(std::move(out_));
    }

private:
    // The lower entry to compare with: a hard link stands for the file it links to.
    std::optional<Entry> lower_entry(const std::string& path) const {
        std::optional<Entry> entry = lower_.lookup(path);
        if (entry && entry->type == EntryType::kHardlink) {
            std::optional<Entry> target = lower_.lookup(entry->link_target);
            if (target) {
                target->path = entry->path;
                return target;
            }
        }
        return entry;
    }

    static bool changed(const Entry& lower, const Entry& now) {
        if (lower.type != now.type || lower.mode != now.mode || lower.uid != now.uid ||
            lower.gid != now.gid || lower.mtime_ns != now.mtime_ns ||
            lower.link_target != now.link_target || lower.dev_major != now.dev_major ||
            lower.dev_minor != now.dev_minor || lower.xattrs != now.xattrs) {
            return true;
        }
        if (now.type != EntryType::kRegular) {
            return false;
        }
        if (lower.size != now.size) {
            return true;
        }
        // Whole-second mtimes on both sides mean the precision was lost (a tar keeps seconds),
        // so a rewrite within that second would go unseen: compare the bytes then.
        if (now.mtime_ns % kNanosPerSecond == 0 && !lower.source_file.empty()) {
            return !same_bytes(lower.source_file, now.source_file);
        }
        return false;
    }

    void walk(const std::string& dir) {
        const fs::path on_disk = dir.empty() ? rootfs_ : rootfs_ / dir;
        std::vector<std::string> names;
        std::error_code ec;
        for (fs::directory_iterator it(on_disk, ec), end; !ec && it != end; it.increment(ec)) {
            names.push_back(it->path().filename().string());
        }
        if (ec) {
            throw Error(ErrorCode::kIo, "reading directory '" + on_disk.string() + "' failed: " +
                                            ec.message() + "; check that the snapshot is readable");
        }
        std::sort(names.begin(), names.end());
        for (const std::string& name : names) {
            const std::string path = join(dir, name);
            ScannedEntry scanned = scan_entry(on_disk / name, path);
            const bool is_dir = scanned.entry.type == EntryType::kDirectory;
            const std::optional<Entry> lower = lower_entry(path);
            if (!lower || changed(*lower, scanned.entry)) {
                included_.insert(path);
                out_.push_back(std::move(scanned));
            }
            if (is_dir) {
                walk(path);
            }
        }
    }

    // Only the topmost deleted path gets a whiteout, in a parent that is still a directory;
    // a parent replaced by another type hides the lower tree by itself.
    void add_whiteouts() {
        for (const Entry& gone : lower_.all()) {
            struct ::stat st {};
            if (::lstat((rootfs_ / gone.path).c_str(), &st) == 0) {
                continue;
            }
            if (errno != ENOENT && errno != ENOTDIR) {
                throw Error(ErrorCode::kIo, "lstat '" + (rootfs_ / gone.path).string() +
                                                "' failed: " + std::strerror(errno) +
                                                "; check that the snapshot is readable");
            }
            const std::string parent = parent_of(gone.path);
            const fs::path parent_on_disk = parent.empty() ? rootfs_ : rootfs_ / parent;
            if (::lstat(parent_on_disk.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
                continue;
            }
            ScannedEntry whiteout;
            whiteout.entry.path =
                join(parent, layer::kWhiteoutPrefix +
                                 gone.path.substr(parent.empty() ? 0 : parent.size() + 1));
            whiteout.entry.type = EntryType::kRegular;
            whiteout.entry.mode = 0600;
            // The parent's mtime rather than the clock, so the same tree gives the same layer.
            whiteout.entry.mtime_ns =
                static_cast<std::int64_t>(st.st_mtim.tv_sec) * kNanosPerSecond + st.st_mtim.tv_nsec;
            whiteout.entry.data = std::string();
            included_.insert(whiteout.entry.path);
            out_.push_back(std::move(whiteout));
        }
    }

    // Overlayfs copies up every parent of a changed entry; so does this diff.
    void add_parents() {
        std::vector<std::string> missing;
        for (const std::string& path : included_) {
            for (std::string parent = parent_of(path); !parent.empty();
                 parent = parent_of(parent)) {
                if (included_.contains(parent)) {
                    break;
                }
                missing.push_back(parent);
            }
        }
        std::sort(missing.begin(), missing.end());
        missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
        for (const std::string& parent : missing) {
            if (!included_.contains(parent)) {
                out_.push_back(scan_entry(rootfs_ / parent, parent));
            }
        }
    }

    const layer::MergedView& lower_;
    const fs::path rootfs_;
    std::vector<ScannedEntry> out_;
    std::set<std::string> included_;
};

}  // namespace

std::vector<Entry> tree_diff(const layer::MergedView& lower, const fs::path& rootfs) {
    std::error_code ec;
    if (!fs::is_directory(rootfs, ec)) {
        throw Error(ErrorCode::kNotFound, "root filesystem directory '" + rootfs.string() +
                                              "' does not exist or is not a directory; pass the "
                                              "copy the step ran in");
    }
    return Differ(lower, rootfs).run();
}

}  // namespace xarch::snapshot
