// SPDX-License-Identifier: Apache-2.0
// BuildKit's whiteouts for a step's layer: opaque markers expanded against the lower stage,
// whiteouts of paths the lower lacks dropped, every whiteout with containerd's zero attributes.
#include "snapshot/whiteouts.hpp"

#include "layer/writer.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <string_view>

namespace xarch::snapshot {

namespace {

using layer::Entry;

std::string parent_of(std::string_view path) {
    const auto slash = path.rfind('/');
    return slash == std::string_view::npos ? std::string() : std::string(path.substr(0, slash));
}

std::string base_of(std::string_view path) {
    const auto slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string join(const std::string& dir, std::string_view name) {
    return dir.empty() ? std::string(name) : dir + "/" + std::string(name);
}

Entry whiteout(const std::string& dir, std::string_view name) {
    Entry e;
    e.path = join(dir, std::string(layer::kWhiteoutPrefix) + std::string(name));
    e.type = layer::EntryType::kRegular;
    e.mode = 0;
    e.mtime_ns = 0;
    e.data = std::string();
    return e;
}

}  // namespace

std::vector<Entry> buildkit_whiteouts(std::vector<Entry> entries, const layer::MergedView& lower) {
    std::set<std::string> present;  // what the step's layer holds (not its whiteouts)
    std::set<std::string> dirs;     // ... of which directories
    for (const Entry& e : entries) {
        if (!base_of(e.path).starts_with(layer::kWhiteoutPrefix)) {
            present.insert(e.path);
            if (e.type == layer::EntryType::kDirectory) {
                dirs.insert(e.path);
            }
        }
    }
    std::vector<Entry> out;
    std::set<std::string> whited;
    const auto add_whiteout = [&](const std::string& dir, std::string_view name) {
        if (whited.insert(join(dir, name)).second) {
            out.push_back(whiteout(dir, name));
        }
    };
    for (Entry& e : entries) {
        const std::string name = base_of(e.path);
        if (!name.starts_with(layer::kWhiteoutPrefix)) {
            out.push_back(std::move(e));
            continue;
        }
        const std::string dir = parent_of(e.path);
        if (name == layer::kOpaqueWhiteout) {
            const std::optional<Entry> was = lower.lookup(dir.empty() ? "/" : dir);
            if (!was || was->type != layer::EntryType::kDirectory) {
                continue;  // nothing below to hide
            }
            // The step's directory replaced the lower one: what the lower had there and the
            // step's does not, goes. A path under one that goes is covered by that one.
            for (const Entry& old : lower.list(dir.empty() ? "/" : dir)) {
                const std::string old_dir = parent_of(old.path);
                const bool parent_kept = old_dir == dir || dirs.contains(old_dir);
                if (parent_kept && !present.contains(old.path)) {
                    add_whiteout(old_dir, base_of(old.path));
                }
            }
            continue;
        }
        const std::string target =
            join(dir, name.substr(std::string_view(layer::kWhiteoutPrefix).size()));
        if (lower.lookup(target)) {
            add_whiteout(dir, base_of(target));
        }
    }
    std::sort(out.begin(), out.end(), layer::layer_order);
    return out;
}

}  // namespace xarch::snapshot
