// SPDX-License-Identifier: Apache-2.0
// COPY/ADD planned as layer entries (fsutil copy semantics).
#include "copy_rules.hpp"

#include "add_sources.hpp"
#include "context/pattern_matcher.hpp"
#include "context/scan.hpp"
#include "util/path.hpp"
#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

namespace xarch::solver {

namespace {

std::string parent_of(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

std::string base_of(std::string_view path) {
    while (path.size() > 1 && path.back() == '/') {
        path.remove_suffix(1);
    }
    const auto slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

ContextEntryType context_type(layer::EntryType type) {
    switch (type) {
        case layer::EntryType::kRegular:
        case layer::EntryType::kHardlink:
            return ContextEntryType::kRegular;
        case layer::EntryType::kDirectory:
            return ContextEntryType::kDirectory;
        case layer::EntryType::kSymlink:
            return ContextEntryType::kSymlink;
        default:
            return ContextEntryType::kOther;
    }
}

class Planner {
public:
    Planner(const CopyRequest& request, const LowerLookup& lower, const LowerResolve& resolve)
        : request_(request), lower_(lower), resolve_(resolve) {
        if (!request.excludes.empty()) {
            excludes_.emplace(request.excludes);
        }
    }

    // Absolute, clean destination of the step.
    std::string destination() const {
        const std::string& d = request_.dest;
        return util::clean_path(d.starts_with('/') ? d : request_.workdir + "/" + d);
    }
    bool destination_is_dir_by_name() const {
        const std::string& d = request_.dest;
        return d.ends_with('/') || d == "." || d.ends_with("/.");
    }

    // `path` (absolute) with the symlinks of its parent resolved in the lower filesystem.
    std::string real(const std::string& path) const {
        if (!resolve_ || path == "/") {
            return path;
        }
        const std::string parent = resolve_(parent_of(path).empty() ? "/" : parent_of(path), true);
        return util::clean_path(parent + "/" + base_of(path));
    }

    std::optional<layer::Entry> lower(const std::string& rel) const {
        if (!lower_) {
            return std::nullopt;
        }
        return lower_("/" + rel);
    }

    bool is_dir(const std::string& abs) const {
        std::string path = abs;
        if (resolve_) {
            path = resolve_(abs, true);
        }
        const std::string rel = path.substr(1);
        if (rel.empty()) {
            return true;
        }
        if (auto it = out_.find(rel); it != out_.end()) {
            return it->second.type == layer::EntryType::kDirectory;
        }
        const std::optional<layer::Entry> e = lower(rel);
        return e && e->type == layer::EntryType::kDirectory;
    }

    layer::Entry created_dir(const std::string& rel) const {
        layer::Entry d;
        d.path = rel;
        d.type = layer::EntryType::kDirectory;
        d.mode = 0755;  // fsutil's MkdirAll: --chmod is not applied to directories it creates
        if (request_.owner) {
            d.uid = request_.owner->uid;
            d.gid = request_.owner->gid;
        }
        d.mtime_ns = request_.created_time_ns;
        return d;
    }

    // MkdirAll: `rel` and its parents exist in the layer, as the lower filesystem has them or
    // created.
    void make_dirs(const std::string& rel) {
        std::string prefix;
        std::size_t start = 0;
        while (start < rel.size()) {
            const auto slash = rel.find('/', start);
            prefix = rel.substr(0, slash);
            start = slash == std::string::npos ? rel.size() : slash + 1;
            if (out_.contains(prefix)) {
                continue;
            }
            if (std::optional<layer::Entry> e = lower(prefix);
                e && e->type == layer::EntryType::kDirectory) {
                e->path = prefix;
                out_.emplace(prefix, std::move(*e));
            } else {
                out_.emplace(prefix, created_dir(prefix));
            }
        }
    }

    // MkdirAll of absolute `abs` (symlinks followed): existing directories are left as they
    // are, missing ones created.
    void ensure_dir(const std::string& abs) {
        const std::string path = resolve_ ? resolve_(abs, true) : abs;
        if (path != "/") {
            make_dirs(path.substr(1));
        }
    }

    // One entry at absolute `target`. A directory copied onto an existing one gives it its
    // attributes (fsutil's copy overwrites the metadata of nested directories).
    // `with_chmod`: false for an archive's entries (BuildKit's unpack takes no mode).
    void add(layer::Entry e, const std::string& target, bool with_chmod = true) {
        // A directory target that is a symlink in the lower filesystem means its target, as
        // MkdirAll and copy follow it.
        const std::string path = e.type == layer::EntryType::kDirectory && resolve_
                                     ? resolve_(target, true)
                                     : real(target);
        const std::string rel = path.substr(1);
        if (rel.empty()) {
            return;
        }
        if (const std::string parent = parent_of(rel); !parent.empty()) {
            make_dirs(parent);
        }
        if (e.type == layer::EntryType::kHardlink) {
            // Written as a file; take() makes it a link again when the file it names is copied
            // too (fsutil keeps hard links among the files of one copy).
            links_.emplace_back(rel, e.link_target);
            e.type = layer::EntryType::kRegular;
            e.link_target.clear();
        } else if (e.type == layer::EntryType::kRegular && !e.path.empty()) {
            dest_of_[e.path] = rel;
        }
        e.path = rel;
        if (request_.owner) {
            e.uid = request_.owner->uid;
            e.gid = request_.owner->gid;
        }
        if (request_.chmod && with_chmod) {
            e.mode = request_.chmod->apply(e.mode, e.type == layer::EntryType::kDirectory);
        }
        out_[rel] = std::move(e);
    }

    bool excluded(const std::string& rest) const {
        return excludes_ && excludes_->matches_or_parent_matches(rest);
    }

    // ADD of a local archive: its entries under the destination directory.
    void unpack(const layer::Entry& archive, const std::string& dest, std::size_t n) {
        const std::filesystem::path dir =
            request_.scratch_dir / ("add-" + std::to_string(n) + "-" + base_of(archive.path));
        ensure_dir(dest);
        const std::string dest_rel = (resolve_ ? resolve_(dest, true) : dest).substr(1);
        for (layer::Entry e : extract_archive(archive.source_file, dir)) {
            if (e.type == layer::EntryType::kHardlink) {
                e.link_target = dest_rel.empty() ? e.link_target : dest_rel + "/" + e.link_target;
                const std::string rel = dest_rel.empty() ? e.path : dest_rel + "/" + e.path;
                if (const std::string parent = parent_of(rel); !parent.empty()) {
                    make_dirs(parent);
                }
                e.path = rel;
                if (request_.owner) {
                    e.uid = request_.owner->uid;
                    e.gid = request_.owner->gid;
                }
                out_[rel] = std::move(e);
                continue;
            }
            const std::string target = dest + "/" + e.path;
            add(std::move(e), target, false);
        }
    }

    std::vector<layer::Entry> take() {
        for (const auto& [rel, source_target] : links_) {
            const auto target = dest_of_.find(source_target);
            if (target == dest_of_.end() || target->second == rel) {
                continue;
            }
            const auto file = out_.find(target->second);
            const auto link = out_.find(rel);
            if (file == out_.end() || link == out_.end() ||
                file->second.type != layer::EntryType::kRegular ||
                link->second.type != layer::EntryType::kRegular) {
                continue;
            }
            link->second.type = layer::EntryType::kHardlink;
            link->second.link_target = target->second;
            link->second.source_file.clear();
            link->second.data.reset();
            link->second.size = 0;
        }
        std::vector<layer::Entry> entries;
        entries.reserve(out_.size());
        for (auto& [path, e] : out_) {
            entries.push_back(std::move(e));
        }
        return entries;
    }

private:
    const CopyRequest& request_;
    const LowerLookup& lower_;
    const LowerResolve& resolve_;
    std::optional<context::PatternMatcher> excludes_;
    std::map<std::string, layer::Entry> out_;
    std::unordered_map<std::string, std::string> dest_of_;    // source file -> layer path
    std::vector<std::pair<std::string, std::string>> links_;  // layer path, source file it names
};

// A source entry with the bytes it stands for: a hard link that ends up copied as a file reads
// the file it names.
layer::Entry with_bytes(const layer::Entry& e,
                        const std::unordered_map<std::string, const layer::Entry*>& by_path) {
    layer::Entry copy = e;
    if (e.type == layer::EntryType::kHardlink && e.source_file.empty() && !e.data) {
        if (const auto target = by_path.find(e.link_target); target != by_path.end()) {
            copy.source_file = target->second->source_file;
            copy.data = target->second->data;
            copy.size = target->second->size;
        }
    }
    return copy;
}

// The part of `path` that --parents keeps: after the "/./" pivot of the source, else all.
std::string parents_part(const std::string& source, const std::string& path) {
    const auto pivot = source.find("/./");
    if (pivot == std::string::npos) {
        return path;
    }
    const std::string base = util::clean_path("/" + source.substr(0, pivot)).substr(1);
    if (base.empty()) {
        return path;
    }
    return path.starts_with(base + "/") ? path.substr(base.size() + 1) : path;
}

// `path` relative to the directory part of `source` before its first wildcard ("src/*.txt"
// matching "src/a.txt" gives "a.txt"), as --exclude patterns see a wildcard's matches.
std::string below_static_prefix(const std::string& source, const std::string& path) {
    const std::string clean = util::clean_path("/" + source).substr(1);
    const auto wildcard = clean.find_first_of("*?[");
    const auto slash = clean.rfind('/', wildcard == std::string::npos ? clean.size() : wildcard);
    if (slash == std::string::npos) {
        return path;
    }
    const std::string prefix = clean.substr(0, slash + 1);
    return path.starts_with(prefix) ? path.substr(prefix.size()) : path;
}

}  // namespace

SourceTree context_source(const std::filesystem::path& dir,
                          const std::vector<ContextEntry>& entries) {
    SourceTree tree;
    tree.entries.reserve(entries.size());
    for (const ContextEntry& c : entries) {
        layer::Entry e;
        e.path = c.path;
        switch (c.type) {
            case ContextEntryType::kRegular:
                e.type = layer::EntryType::kRegular;
                e.source_file = dir / c.path;
                break;
            case ContextEntryType::kDirectory:
                e.type = layer::EntryType::kDirectory;
                break;
            case ContextEntryType::kSymlink:
                e.type = layer::EntryType::kSymlink;
                e.link_target = c.link_target;
                break;
            case ContextEntryType::kOther:
                e.type = layer::EntryType::kFifo;
                break;
        }
        e.mode = c.mode & 07777;
        e.size = c.size;
        e.mtime_ns = c.mtime_ns;
        tree.entries.push_back(std::move(e));
    }
    return tree;
}

SourceTree tree_source(std::vector<layer::Entry> entries) {
    SourceTree tree;
    tree.entries = std::move(entries);
    return tree;
}

std::vector<layer::Entry> plan_copy(const CopyRequest& request,
                                    const SourceTree& source,
                                    const LowerLookup& lower,
                                    const LowerResolve& resolve_lower) {
    Planner planner(request, lower, resolve_lower);
    const std::string dest = planner.destination();
    const bool dest_named_dir = planner.destination_is_dir_by_name();
    // Copy.ensureDstPath: the destination directory itself, or the parents of a file target.
    if (dest_named_dir) {
        planner.ensure_dir(dest);
    } else if (const std::string parent = parent_of(dest); parent.size() > 0) {
        planner.ensure_dir(parent);
    }

    if (!request.sources.empty()) {
        std::vector<ContextEntry> index;
        index.reserve(source.entries.size());
        std::unordered_map<std::string, const layer::Entry*> by_path;
        for (const layer::Entry& e : source.entries) {
            ContextEntry c;
            c.path = e.path;
            c.type = context_type(e.type);
            c.mode = e.mode;
            c.size = e.size;
            c.link_target = e.link_target;
            index.push_back(std::move(c));
            by_path.emplace(e.path, &e);
        }
        // resolve_copy_sources searches the entries in walk order.
        std::sort(index.begin(), index.end(), [](const ContextEntry& a, const ContextEntry& b) {
            return context::walk_order_less(a.path, b.path);
        });
        const std::vector<CopySourceMatch> matches =
            resolve_copy_sources(index, request.sources, request.dest);
        std::size_t archives = 0;
        for (const CopySourceMatch& m : matches) {
            const std::string rel = util::clean_path("/" + m.source).substr(1);
            std::set<std::string> in_match;
            for (const ContextEntry& c : m.entries) {
                in_match.insert(c.path);
            }
            for (const ContextEntry& c : m.entries) {
                const layer::Entry& e = *by_path.at(c.path);
                const std::string parent = parent_of(c.path);
                const bool is_root =
                    rel.empty() ? false : !in_match.contains(parent) || parent == c.path;
                if (!is_root && !rel.empty()) {
                    continue;
                }
                if (rel.empty() || e.type == layer::EntryType::kDirectory) {
                    // A directory: its contents go into the destination directory.
                    const std::string root = rel.empty() ? std::string() : c.path;
                    const std::string target_dir =
                        request.parents && !root.empty()
                            ? util::clean_path(dest + "/" + parents_part(m.source, root))
                            : dest;
                    planner.ensure_dir(target_dir);
                    for (const ContextEntry& d : m.entries) {
                        if (!root.empty() && !d.path.starts_with(root + "/")) {
                            continue;
                        }
                        if (root.empty() && d.path.empty()) {
                            continue;
                        }
                        const std::string rest =
                            root.empty() ? d.path : d.path.substr(root.size() + 1);
                        if (planner.excluded(rest)) {
                            continue;
                        }
                        planner.add(with_bytes(*by_path.at(d.path), by_path),
                                    target_dir + "/" + rest);
                    }
                    if (rel.empty()) {
                        break;  // every entry was handled as content of the root
                    }
                    continue;
                }
                // A file (or a symlink, device...): named by the source.
                const bool wildcard = m.source.find_first_of("*?[") != std::string::npos;
                const std::string name = wildcard ? base_of(c.path) : base_of(rel);
                std::string target;
                if (request.parents) {
                    target = util::clean_path(dest + "/" + parents_part(m.source, c.path));
                } else if (dest_named_dir || planner.is_dir(dest)) {
                    target = dest == "/" ? "/" + name : dest + "/" + name;
                } else {
                    target = dest;
                }
                if (wildcard && planner.excluded(below_static_prefix(m.source, c.path))) {
                    continue;  // a wildcard's match is dropped by --exclude too (Dockerfile docs)
                }
                if (request.add && request.unpack && e.type == layer::EntryType::kRegular &&
                    is_archive(e.source_file)) {
                    planner.unpack(e, dest, archives++);
                    continue;
                }
                planner.add(with_bytes(e, by_path), target);
            }
        }
    }

    for (const dockerfile::SourceContent& content : request.contents) {
        layer::Entry file;
        file.type = layer::EntryType::kRegular;
        file.mode = 0644;
        file.data = content.data;
        file.size = static_cast<std::int64_t>(content.data.size());
        file.mtime_ns = request.created_time_ns;
        const std::string target = dest_named_dir || planner.is_dir(dest)
                                       ? util::clean_path(dest + "/" + content.path)
                                       : dest;
        planner.add(std::move(file), target);
    }
    return planner.take();
}

}  // namespace xarch::solver
