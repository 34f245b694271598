// SPDX-License-Identifier: Apache-2.0
// The stat cache file: a header line with a format tag and the sha256 of the body, then one
// record a line, "<size> <mtime_ns> <inode> <mode> <sha256 hex> <path length> <path>", the
// length letting paths hold any byte (newlines included).
#include "context/stat_cache.hpp"

#include "oci/fs.hpp"

#include <xarch/error.hpp>

#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <string>
#include <utility>

namespace xarch::context {
namespace {

constexpr std::string_view kMagic = "xarch-stat-cache-v1 ";
// A cache larger than this is not ours (about four million files).
constexpr std::size_t kMaxFile = std::size_t{512} << 20;

template <class T>
bool read_number(std::string_view& in, T& out) {
    const auto [end, ec] = std::from_chars(in.data(), in.data() + in.size(), out);
    if (ec != std::errc() || end == in.data() || end == in.data() + in.size() || *end != ' ') {
        return false;
    }
    in.remove_prefix(static_cast<std::size_t>(end - in.data()) + 1);
    return true;
}

}  // namespace

std::filesystem::path StatCache::default_directory() {
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    if (xdg != nullptr && xdg[0] == '/') {
        return std::filesystem::path(xdg) / "xarch";
    }
    const char* home = std::getenv("HOME");
    if (home != nullptr && home[0] == '/') {
        return std::filesystem::path(home) / ".cache" / "xarch";
    }
    return std::filesystem::temp_directory_path() / ("xarch-cache-" + std::to_string(::getuid()));
}

std::filesystem::path StatCache::file_for(const std::filesystem::path& cache_dir,
                                          const std::filesystem::path& context_root) {
    // One file per context, named by its path's digest so that any path makes a valid name.
    const std::string hex(Digest::of(context_root.string()).hex());
    return cache_dir / "context-stat" / (hex.substr(0, 32) + ".cache");
}

StatCache::StatCache(std::filesystem::path file) : file_(std::move(file)) {
    std::optional<std::string> content;
    try {
        content = oci::fs::read_file(file_, kMaxFile);
    } catch (const Error&) {
        corrupt_ = true;  // unreadable or oversized: start over
        return;
    }
    if (!content) {
        return;
    }
    std::optional<Map> parsed = parse(*content);
    if (!parsed) {
        corrupt_ = true;
        return;
    }
    loaded_ = std::move(*parsed);
}

std::optional<Digest> StatCache::lookup(const std::string& path, const StatKey& key) const {
    const auto it = loaded_.find(path);
    if (it == loaded_.end() || !(it->second.key == key)) {
        return std::nullopt;
    }
    return it->second.digest;
}

void StatCache::keep(std::string path, const StatKey& key, Digest digest) {
    const auto it = loaded_.find(path);
    if (it == loaded_.end() || !(it->second.key == key) || it->second.digest != digest) {
        changed_ = true;
    }
    next_.emplace_back(std::move(path), Record{key, std::move(digest)});
}

void StatCache::save() {
    if (!changed_ && !corrupt_ && next_.size() == loaded_.size()) {
        return;
    }
    oci::fs::make_directories(file_.parent_path());
    oci::fs::write_file_atomic(file_, serialize(next_));
}

std::string StatCache::serialize(const std::vector<std::pair<std::string, Record>>& records) {
    std::string body;
    body.reserve(records.size() * 140);
    for (const auto& [path, record] : records) {
        const StatKey& k = record.key;
        body += std::to_string(k.size);
        body += ' ';
        body += std::to_string(k.mtime_ns);
        body += ' ';
        body += std::to_string(k.inode);
        body += ' ';
        body += std::to_string(k.mode);
        body += ' ';
        body += record.digest.hex();
        body += ' ';
        body += std::to_string(path.size());
        body += ' ';
        body += path;
        body += '\n';
    }
    std::string out(kMagic);
    out += Digest::of(body).hex();
    out += '\n';
    out += body;
    return out;
}

std::optional<StatCache::Map> StatCache::parse(std::string_view content) {
    if (content.substr(0, kMagic.size()) != kMagic) {
        return std::nullopt;
    }
    content.remove_prefix(kMagic.size());
    const std::size_t nl = content.find('\n');
    if (nl == std::string_view::npos) {
        return std::nullopt;
    }
    const std::string_view sum = content.substr(0, nl);
    std::string_view body = content.substr(nl + 1);
    // A torn or edited file fails here, before any record is trusted.
    if (sum != Digest::of(body).hex()) {
        return std::nullopt;
    }
    Map out;
    while (!body.empty()) {
        Record record;
        std::size_t path_size = 0;
        if (!read_number(body, record.key.size) || !read_number(body, record.key.mtime_ns) ||
            !read_number(body, record.key.inode) || !read_number(body, record.key.mode)) {
            return std::nullopt;
        }
        const std::size_t space = body.find(' ');
        if (space == std::string_view::npos) {
            return std::nullopt;
        }
        try {
            record.digest = Digest::parse("sha256:" + std::string(body.substr(0, space)));
        } catch (const Error&) {
            return std::nullopt;
        }
        body.remove_prefix(space + 1);
        if (!read_number(body, path_size) || body.size() < path_size + 1 ||
            body[path_size] != '\n') {
            return std::nullopt;
        }
        out.insert_or_assign(std::string(body.substr(0, path_size)), std::move(record));
        body.remove_prefix(path_size + 1);
    }
    return out;
}

}  // namespace xarch::context
