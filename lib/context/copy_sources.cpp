// SPDX-License-Identifier: Apache-2.0
// COPY/ADD source resolution over a scanned context, following BuildKit's Dockerfile frontend and
// its content-hash walk: sources are rooted at the context, wildcards are filepath.Match patterns
// that may match nothing (AllowEmptyWildcard), symlinks on a source path are followed without
// leaving the context, and a missing literal source fails with BuildKit's `"/x": not found`.
#include "context/filepath_match.hpp"
#include "context/scan.hpp"
#include "util/quote.hpp"

#include <xarch/context.hpp>
#include <xarch/error.hpp>

#include <algorithm>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace xarch {
namespace {

// As Linux's MAXSYMLINKS: more hops than this is a loop.
constexpr int kMaxSymlinkHops = 40;

// BuildKit's containsWildcards: '*', '?' or '[' not escaped by a backslash.
bool has_wildcards(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\') {
            ++i;
        } else if (s[i] == '*' || s[i] == '?' || s[i] == '[') {
            return true;
        }
    }
    return false;
}

std::vector<std::string> split(std::string_view path) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= path.size()) {
        const std::size_t slash = path.find('/', start);
        const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
        if (end > start) {
            out.emplace_back(path.substr(start, end - start));
        }
        if (slash == std::string_view::npos) {
            break;
        }
        start = slash + 1;
    }
    return out;
}

// Refuses a source that climbs above the context root before it is cleaned: "../x",
// "a/../../x", "/../x". BuildKit would silently clamp these to the root; Docker refuses them.
void check_inside(const std::string& source) {
    int depth = 0;
    for (const std::string& c : split(source)) {
        if (c == "..") {
            if (--depth < 0) {
                throw Error(ErrorCode::kInvalidArgument,
                            "COPY source " + util::quote(source) +
                                " is outside the build context: sources are paths inside the "
                                "context (a leading '/' is its root); move the file into the "
                                "context or use a named context (--build-context)");
            }
        } else if (c != ".") {
            ++depth;
        }
    }
}

class Index {
public:
    explicit Index(std::span<const ContextEntry> entries) : entries_(entries) {}

    const ContextEntry* find(std::string_view path) const {
        const auto it = std::lower_bound(entries_.begin(), entries_.end(), path,
                                         [](const ContextEntry& e, std::string_view p) {
                                             return context::walk_order_less(e.path, p);
                                         });
        return it != entries_.end() && it->path == path ? &*it : nullptr;
    }

    // The entry and, for a directory, everything below it (contiguous in walk order).
    void append_with_contents(const ContextEntry& root, std::vector<ContextEntry>& out) const {
        out.push_back(root);
        if (root.type != ContextEntryType::kDirectory) {
            return;
        }
        const std::string prefix = root.path + "/";
        auto it = entries_.begin() + (&root - entries_.data()) + 1;
        for (; it != entries_.end() && it->path.compare(0, prefix.size(), prefix) == 0; ++it) {
            out.push_back(*it);
        }
    }

    std::span<const ContextEntry> all() const { return entries_; }

private:
    std::span<const ContextEntry> entries_;
};

// The entry `rel` names, following symlinks (any component, the last included) with the context
// as root: an absolute target starts again at the context root, ".." stops at it. nullptr when
// nothing is there.
const ContextEntry* follow(const Index& index, const std::string& source, std::string_view rel) {
    std::deque<std::string> todo;
    for (std::string& c : split(rel)) {
        todo.push_back(std::move(c));
    }
    std::string current;
    const ContextEntry* entry = nullptr;
    int hops = 0;
    while (!todo.empty()) {
        const std::string c = std::move(todo.front());
        todo.pop_front();
        if (c == ".") {
            continue;
        }
        if (c == "..") {
            current = current.find('/') == std::string::npos ? "" : context::dir_path(current);
            entry = current.empty() ? nullptr : index.find(current);
            continue;
        }
        std::string next = current.empty() ? c : current + "/" + c;
        entry = index.find(next);
        if (entry == nullptr) {
            return nullptr;
        }
        if (entry->type == ContextEntryType::kSymlink) {
            if (++hops > kMaxSymlinkHops) {
                throw Error(ErrorCode::kInvalidArgument,
                            "COPY source " + util::quote(source) +
                                ": too many levels of symbolic links at " + util::quote(next));
            }
            std::vector<std::string> target = split(entry->link_target);
            todo.insert(todo.begin(), target.begin(), target.end());
            if (!entry->link_target.empty() && entry->link_target[0] == '/') {
                current.clear();
            }
            entry = current.empty() ? nullptr : index.find(current);
            continue;
        }
        current = std::move(next);
    }
    return entry;
}

}  // namespace

std::vector<CopySourceMatch> resolve_copy_sources(std::span<const ContextEntry> entries,
                                                  const std::vector<std::string>& sources,
                                                  std::string_view destination) {
    if (sources.empty()) {
        throw Error(ErrorCode::kInvalidArgument, "COPY needs at least one source");
    }
    // BuildKit counts the sources as written; a wildcard alone may name one file.
    if (sources.size() > 1 && !destination.empty() && destination.back() != '/') {
        throw Error(ErrorCode::kInvalidArgument,
                    "When using COPY with more than one source file, the destination must be a "
                    "directory and end with a / (destination " +
                        util::quote(destination) + ")");
    }
    const Index index(entries);
    std::vector<CopySourceMatch> out;
    for (const std::string& source : sources) {
        check_inside(source);
        std::string rel = context::clean_path("/" + source).substr(1);
        CopySourceMatch match{source, {}};
        if (rel.empty()) {
            match.entries.assign(entries.begin(), entries.end());
        } else if (has_wildcards(rel)) {
            if (!context::filepath_match(rel, "")) {
                throw Error(ErrorCode::kInvalidArgument,
                            "COPY source " + util::quote(source) +
                                ": syntax error in pattern (see Go's filepath.Match)");
            }
            std::vector<const ContextEntry*> roots;
            for (const ContextEntry& e : entries) {
                if (context::filepath_match(rel, e.path).value_or(false)) {
                    roots.push_back(&e);
                }
            }
            for (const ContextEntry* root : roots) {
                const ContextEntry* target = root;
                if (root->type == ContextEntryType::kSymlink) {
                    target = follow(index, source, root->path);
                    if (target == nullptr) {
                        throw Error(ErrorCode::kNotFound,
                                    "COPY source " + util::quote(source) + ": symlink " +
                                        util::quote(root->path) + " points to " +
                                        util::quote(root->link_target) +
                                        ", which is not in the build context");
                    }
                }
                index.append_with_contents(*target, match.entries);
            }
        } else {
            const ContextEntry* target = follow(index, source, rel);
            if (target == nullptr) {
                throw Error(
                    ErrorCode::kNotFound,
                    "failed to calculate checksum of COPY source: " + util::quote("/" + rel) +
                        ": not found (not in the build context, or excluded by "
                        ".dockerignore)");
            }
            index.append_with_contents(*target, match.entries);
        }
        std::sort(match.entries.begin(), match.entries.end(),
                  [](const ContextEntry& a, const ContextEntry& b) {
                      return context::walk_order_less(a.path, b.path);
                  });
        match.entries.erase(std::unique(match.entries.begin(), match.entries.end(),
                                        [](const ContextEntry& a, const ContextEntry& b) {
                                            return a.path == b.path;
                                        }),
                            match.entries.end());
        out.push_back(std::move(match));
    }
    return out;
}

}  // namespace xarch
