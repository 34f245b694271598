// SPDX-License-Identifier: Apache-2.0
// The layer entries of an overlayfs upper directory, and the lstat/xattr scanning both diffs
// share.
#include "snapshot/upper_diff.hpp"

#include "layer/writer.hpp"

#include <xarch/error.hpp>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <utility>

namespace xarch::snapshot {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void throw_io(const char* what, const fs::path& file, int error) {
    throw Error(ErrorCode::kIo, std::string(what) + " '" + file.string() +
                                    "' failed: " + std::strerror(error) +
                                    "; check that the snapshot is readable and not being changed");
}

// Every xattr of `file` (not followed), name -> raw value. Filesystems without xattr support
// simply have none.
std::map<std::string, std::string> read_xattrs(const fs::path& file) {
    std::map<std::string, std::string> out;
    std::string names;
    for (;;) {
        const ssize_t size = ::llistxattr(file.c_str(), nullptr, 0);
        if (size < 0) {
            if (errno == ENOTSUP) {
                return out;
            }
            throw_io("listing the xattrs of", file, errno);
        }
        names.resize(static_cast<std::size_t>(size));
        const ssize_t got = ::llistxattr(file.c_str(), names.data(), names.size());
        if (got >= 0) {
            names.resize(static_cast<std::size_t>(got));
            break;
        }
        if (errno != ERANGE) {  // ERANGE: the list grew in between, ask again
            throw_io("listing the xattrs of", file, errno);
        }
    }
    for (std::size_t start = 0; start < names.size();) {
        const std::size_t end = names.find('\0', start);
        std::string name = names.substr(start, end - start);
        start = end == std::string::npos ? names.size() : end + 1;
        if (name.empty()) {
            continue;
        }
        std::string value;
        for (;;) {
            const ssize_t size = ::lgetxattr(file.c_str(), name.c_str(), nullptr, 0);
            if (size < 0) {
                if (errno == ENODATA) {  // removed in between
                    break;
                }
                throw_io(("reading xattr " + name + " of").c_str(), file, errno);
            }
            value.resize(static_cast<std::size_t>(size));
            const ssize_t got = ::lgetxattr(file.c_str(), name.c_str(), value.data(), value.size());
            if (got >= 0) {
                value.resize(static_cast<std::size_t>(got));
                out.emplace(std::move(name), std::move(value));
                break;
            }
            if (errno != ERANGE) {
                throw_io(("reading xattr " + name + " of").c_str(), file, errno);
            }
        }
    }
    return out;
}

std::string join(const std::string& dir, const std::string& name) {
    return dir.empty() ? name : dir + "/" + name;
}

std::vector<std::string> sorted_names(const fs::path& dir) {
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        names.push_back(it->path().filename().string());
    }
    if (ec) {
        throw_io("reading directory", dir, ec.value());
    }
    std::sort(names.begin(), names.end());
    return names;
}

bool is_opaque(const std::map<std::string, std::string>& xattrs) {
    for (const char* name : {"trusted.overlay.opaque", "user.overlay.opaque"}) {
        const auto it = xattrs.find(name);
        if (it != xattrs.end() && it->second == "y") {
            return true;
        }
    }
    return false;
}

void walk_upper(const fs::path& dir, const std::string& layer_dir, std::vector<ScannedEntry>& out) {
    for (const std::string& name : sorted_names(dir)) {
        const fs::path file = dir / name;
        ScannedEntry scanned = scan_entry(file, join(layer_dir, name));
        layer::Entry& entry = scanned.entry;
        if (entry.type == layer::EntryType::kCharDevice && entry.dev_major == 0 &&
            entry.dev_minor == 0) {
            entry.path = join(layer_dir, layer::kWhiteoutPrefix + name);
            entry.type = layer::EntryType::kRegular;
            entry.mode = 0600;
            entry.data = std::string();
            entry.xattrs.clear();
            scanned.links = 1;  // whiteouts are never hard links in the layer
            out.push_back(std::move(scanned));
            continue;
        }
        if (entry.type == layer::EntryType::kDirectory) {
            if (is_opaque(read_xattrs(file))) {
                // As moby's overlay converter: the directory's permission bits, owner and mtime.
                ScannedEntry opaque;
                opaque.entry.path = join(entry.path, layer::kOpaqueWhiteout);
                opaque.entry.type = layer::EntryType::kRegular;
                opaque.entry.mode = entry.mode & 0777;
                opaque.entry.uid = entry.uid;
                opaque.entry.gid = entry.gid;
                opaque.entry.mtime_ns = entry.mtime_ns;
                opaque.entry.data = std::string();
                out.push_back(std::move(opaque));
            }
            const std::string sub = entry.path;
            out.push_back(std::move(scanned));
            walk_upper(file, sub, out);
            continue;
        }
        out.push_back(std::move(scanned));
    }
}

}  // namespace

bool is_overlay_xattr(const std::string& name) {
    return name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.");
}

ScannedEntry scan_entry(const fs::path& file, std::string layer_path) {
    struct ::stat st {};
    if (::lstat(file.c_str(), &st) != 0) {
        throw_io("lstat", file, errno);
    }
    ScannedEntry out;
    out.device = st.st_dev;
    out.inode = st.st_ino;
    out.links = st.st_nlink;
    layer::Entry& entry = out.entry;
    entry.path = std::move(layer_path);
    entry.mode = st.st_mode & 07777;
    entry.uid = st.st_uid;
    entry.gid = st.st_gid;
    entry.mtime_ns =
        static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    switch (st.st_mode & S_IFMT) {
        case S_IFREG:
            entry.type = layer::EntryType::kRegular;
            entry.size = st.st_size;
            entry.source_file = file;
            break;
        case S_IFDIR:
            entry.type = layer::EntryType::kDirectory;
            break;
        case S_IFLNK: {
            entry.type = layer::EntryType::kSymlink;
            std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
            for (;;) {
                const ssize_t got = ::readlink(file.c_str(), target.data(), target.size());
                if (got < 0) {
                    throw_io("readlink", file, errno);
                }
                if (static_cast<std::size_t>(got) < target.size()) {
                    target.resize(static_cast<std::size_t>(got));
                    break;
                }
                target.resize(target.size() * 2);  // the link changed length in between
            }
            entry.link_target = std::move(target);
            break;
        }
        case S_IFIFO:
            entry.type = layer::EntryType::kFifo;
            break;
        case S_IFCHR:
        case S_IFBLK:
            entry.type = S_ISCHR(st.st_mode) ? layer::EntryType::kCharDevice
                                             : layer::EntryType::kBlockDevice;
            entry.dev_major = ::major(st.st_rdev);
            entry.dev_minor = ::minor(st.st_rdev);
            break;
        default:
            // Sockets have no tar representation; tar and moby skip them too.
            throw Error(
                ErrorCode::kUnsupported,
                "'" + file.string() + "' is a socket, which a layer cannot hold; remove it");
    }
    for (auto& [name, value] : read_xattrs(file)) {
        if (!is_overlay_xattr(name)) {
            entry.xattrs.emplace(name, std::move(value));
        }
    }
    return out;
}

std::vector<layer::Entry> pair_hardlinks(std::vector<ScannedEntry> scanned) {
    std::sort(scanned.begin(), scanned.end(), [](const ScannedEntry& a, const ScannedEntry& b) {
        return layer::layer_order(a.entry, b.entry);
    });
    std::map<std::pair<std::uint64_t, std::uint64_t>, std::string> first_path;
    std::vector<layer::Entry> out;
    out.reserve(scanned.size());
    for (ScannedEntry& s : scanned) {
        layer::Entry& entry = s.entry;
        if (entry.type == layer::EntryType::kRegular && s.links > 1 && !entry.data) {
            const auto [it, inserted] =
                first_path.emplace(std::pair(s.device, s.inode), entry.path);
            if (!inserted) {
                entry.type = layer::EntryType::kHardlink;
                entry.link_target = it->second;
                entry.size = 0;
                entry.source_file.clear();
            }
        }
        out.push_back(std::move(entry));
    }
    return out;
}

std::vector<layer::Entry> upper_to_entries(const fs::path& upper,
                                           const std::optional<OwnerMap>& owners) {
    std::error_code ec;
    if (!fs::is_directory(upper, ec)) {
        throw Error(ErrorCode::kNotFound, "overlay upper directory '" + upper.string() +
                                              "' does not exist or is not a directory; pass the "
                                              "upperdir the step's overlay mount used");
    }
    std::vector<ScannedEntry> scanned;
    walk_upper(upper, "", scanned);
    if (owners) {
        // Host id -> the id inside: the caller is 0, a subordinate range counts from 1.
        const auto inside = [](std::uint32_t id, std::uint32_t host, std::uint32_t start,
                               std::uint32_t count) {
            if (id == host) {
                return std::uint32_t{0};
            }
            return count != 0 && id >= start && id - start < count ? id - start + 1 : id;
        };
        for (ScannedEntry& s : scanned) {
            s.entry.uid =
                inside(s.entry.uid, owners->host_uid, owners->uid_start, owners->uid_count);
            s.entry.gid =
                inside(s.entry.gid, owners->host_gid, owners->gid_start, owners->gid_count);
        }
    }
    return pair_hardlinks(std::move(scanned));
}

std::vector<layer::Entry> drop_unchanged_dirs(std::vector<layer::Entry> entries,
                                              const layer::MergedView& lower) {
    const auto parent_of = [](const std::string& path) {
        const std::size_t slash = path.rfind('/');
        return slash == std::string::npos ? std::string() : path.substr(0, slash);
    };
    // Descendants after their directory, so that walking backwards sees them first.
    std::sort(entries.begin(), entries.end(), layer::layer_order);
    // Paths with a kept entry somewhere under them, filled deepest first.
    std::set<std::string> has_kept_child;
    std::vector<bool> keep(entries.size(), true);
    for (std::size_t i = entries.size(); i-- > 0;) {
        const layer::Entry& entry = entries[i];
        if (entry.type == layer::EntryType::kDirectory && !has_kept_child.contains(entry.path)) {
            const std::optional<layer::Entry> below = lower.lookup(entry.path);
            if (below && below->type == layer::EntryType::kDirectory && below->mode == entry.mode &&
                below->uid == entry.uid && below->gid == entry.gid &&
                below->mtime_ns == entry.mtime_ns && below->xattrs == entry.xattrs) {
                keep[i] = false;
                continue;
            }
        }
        for (std::string parent = parent_of(entry.path); !parent.empty();
             parent = parent_of(parent)) {
            if (!has_kept_child.insert(parent).second) {
                break;  // its ancestors are in already
            }
        }
    }
    std::vector<layer::Entry> out;
    out.reserve(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
        if (keep[i]) {
            out.push_back(std::move(entries[i]));
        }
    }
    return out;
}

}  // namespace xarch::snapshot
