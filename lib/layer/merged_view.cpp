// SPDX-License-Identifier: Apache-2.0
// MergedView: one pass over the layers bottom first builds a hash map path -> entry and a
// children map, so lookups are O(1) and listings walk only the subtree asked for.
#include "layer/merged_view.hpp"

#include "oci/fs.hpp"
#include "util/path.hpp"
#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <algorithm>
#include <cstring>
#include <deque>
#include <limits>
#include <set>
#include <unordered_map>

namespace xarch::layer {
namespace {

constexpr std::size_t kNoLayer = std::numeric_limits<std::size_t>::max();
constexpr int kMaxSymlinks = 255;

// "/a/./b/" -> "a/b"; "/" and "" -> "".
std::string key_of(std::string_view path) {
    std::string clean = util::clean_path(std::string("/") + std::string(path));
    return clean == "/" ? std::string() : clean.substr(1);
}

std::string parent_of(const std::string& key) {
    const std::size_t slash = key.rfind('/');
    return slash == std::string::npos ? std::string() : key.substr(0, slash);
}

std::string_view base_of(std::string_view key) {
    const std::size_t slash = key.rfind('/');
    return slash == std::string_view::npos ? key : key.substr(slash + 1);
}

std::string join(const std::string& dir, std::string_view name) {
    return dir.empty() ? std::string(name) : dir + "/" + std::string(name);
}

}  // namespace

struct MergedView::Index {
    struct Node {
        const Entry* entry = nullptr;
        std::size_t layer = kNoLayer;
    };
    std::unordered_map<std::string, Node> nodes;
    std::unordered_map<std::string, std::set<std::string>> children;  // dir key -> names
    std::deque<Entry> implied;  // directories no layer has an entry for

    bool is_dir(const Node& node) const { return node.entry->type == EntryType::kDirectory; }

    void remove_descendants(const std::string& key) {
        const auto found = children.find(key);
        if (found == children.end()) {
            return;
        }
        const std::set<std::string> names = std::move(found->second);
        children.erase(found);
        for (const std::string& name : names) {
            const std::string child = join(key, name);
            remove_descendants(child);
            nodes.erase(child);
        }
    }

    void remove(const std::string& key) {
        if (nodes.erase(key) == 0) {
            return;
        }
        remove_descendants(key);
        const auto parent = children.find(parent_of(key));
        if (parent != children.end()) {
            parent->second.erase(std::string(base_of(key)));
        }
    }

    void set(const std::string& key, Node node) {
        const auto found = nodes.find(key);
        if (found == nodes.end()) {
            children[parent_of(key)].insert(std::string(base_of(key)));
            nodes.emplace(key, node);
            return;
        }
        if (!(is_dir(found->second) && node.entry->type == EntryType::kDirectory)) {
            remove_descendants(key);
        }
        found->second = node;
    }

    // Every parent of `key` a directory: a missing one is implied, a file or symlink in the way
    // is replaced (as it is when a layer puts a directory there).
    void ensure_parents(const std::string& key) {
        std::size_t slash = key.find('/');
        while (slash != std::string::npos) {
            const std::string parent = key.substr(0, slash);
            const auto found = nodes.find(parent);
            if (found == nodes.end() || !is_dir(found->second)) {
                Entry& dir = implied.emplace_back();
                dir.path = parent;
                dir.type = EntryType::kDirectory;
                dir.mode = 0755;
                set(parent, Node{&dir, kNoLayer});
            }
            slash = key.find('/', slash + 1);
        }
    }
};

MergedView::MergedView(std::vector<std::shared_ptr<const Layer>> layers)
    : layers_(std::move(layers)) {
    auto index = std::make_shared<Index>();
    index->nodes.reserve(1024);
    for (std::size_t li = 0; li < layers_.size(); ++li) {
        const Layer& layer = *layers_[li];
        // Whiteouts hide what the layers below hold, so they go first.
        for (const Entry& entry : layer.entries) {
            const std::string_view base = base_of(entry.path);
            if (base == kOpaqueWhiteout) {
                index->remove_descendants(parent_of(entry.path));
            } else if (base.starts_with(kWhiteoutPrefix)) {
                index->remove(
                    join(parent_of(entry.path), base.substr(std::strlen(kWhiteoutPrefix))));
            }
        }
        for (const Entry& entry : layer.entries) {
            if (base_of(entry.path).starts_with(kWhiteoutPrefix)) {
                continue;
            }
            const std::string key = key_of(entry.path);
            if (key.empty()) {
                continue;
            }
            index->ensure_parents(key);
            index->set(key, Index::Node{&entry, li});
        }
    }
    index_ = std::move(index);
}

namespace {

Entry materialize(const Entry& entry,
                  std::size_t layer,
                  const std::vector<std::shared_ptr<const MergedView::Layer>>& layers) {
    Entry out = entry;
    if (layer != kNoLayer && out.source_file.empty() && !out.data &&
        (out.type == EntryType::kRegular || out.type == EntryType::kHardlink)) {
        out.source_file = layers[layer]->dir / out.path;
    }
    return out;
}

}  // namespace

std::optional<Entry> MergedView::lookup(std::string_view path) const {
    const std::string key = key_of(path);
    if (key.empty()) {
        Entry root;
        root.type = EntryType::kDirectory;
        root.mode = 0755;
        return root;
    }
    const auto found = index_->nodes.find(key);
    if (found == index_->nodes.end()) {
        return std::nullopt;
    }
    return materialize(*found->second.entry, found->second.layer, layers_);
}

std::string MergedView::resolve(std::string_view path, bool follow_last) const {
    std::deque<std::string> pending;
    auto push_front_parts = [&pending](std::string_view text) {
        std::vector<std::string> parts;
        std::size_t start = 0;
        while (start <= text.size()) {
            std::size_t slash = text.find('/', start);
            if (slash == std::string_view::npos) {
                slash = text.size();
            }
            const std::string_view part = text.substr(start, slash - start);
            if (!part.empty() && part != ".") {
                parts.emplace_back(part);
            }
            start = slash + 1;
        }
        pending.insert(pending.begin(), parts.begin(), parts.end());
    };
    push_front_parts(path);
    std::string resolved;  // key form: "a/b"
    int links = 0;
    while (!pending.empty()) {
        const std::string part = std::move(pending.front());
        pending.pop_front();
        if (part == "..") {
            resolved = parent_of(resolved);
            continue;
        }
        const std::string before = resolved;
        resolved = join(resolved, part);
        if (pending.empty() && !follow_last) {
            break;
        }
        const auto found = index_->nodes.find(resolved);
        if (found == index_->nodes.end() || found->second.entry->type != EntryType::kSymlink) {
            continue;
        }
        if (++links > kMaxSymlinks) {
            throw Error(ErrorCode::kInvalidArgument,
                        "too many levels of symbolic links resolving " + util::quote(path) +
                            " (a symlink loop?)");
        }
        const std::string& target = found->second.entry->link_target;
        resolved = !target.empty() && target.front() == '/' ? std::string() : before;
        push_front_parts(target);
    }
    return "/" + resolved;
}

std::vector<Entry> MergedView::list(std::string_view dir) const {
    std::vector<Entry> out;
    std::vector<std::string> stack{key_of(dir)};
    while (!stack.empty()) {
        const std::string key = std::move(stack.back());
        stack.pop_back();
        const auto children = index_->children.find(key);
        if (children == index_->children.end()) {
            continue;
        }
        for (const std::string& name : children->second) {
            std::string child = join(key, name);
            const auto found = index_->nodes.find(child);
            if (found == index_->nodes.end()) {
                continue;
            }
            out.push_back(materialize(*found->second.entry, found->second.layer, layers_));
            out.back().path = child;
            if (found->second.entry->type == EntryType::kDirectory) {
                stack.push_back(std::move(child));
            }
        }
    }
    std::sort(out.begin(), out.end(),
              [](const Entry& a, const Entry& b) { return a.path < b.path; });
    return out;
}

std::optional<std::string> MergedView::read_file(std::string_view path) const {
    const std::optional<Entry> entry = lookup(resolve(path, true));
    if (!entry || (entry->type != EntryType::kRegular && entry->type != EntryType::kHardlink)) {
        return std::nullopt;
    }
    if (entry->data) {
        return entry->data;
    }
    if (entry->source_file.empty()) {
        return std::nullopt;
    }
    return oci::fs::read_file(entry->source_file, std::numeric_limits<std::size_t>::max());
}

std::vector<Entry> MergedView::all() const {
    return list("/");
}

}  // namespace xarch::layer
