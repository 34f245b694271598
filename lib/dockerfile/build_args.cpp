// SPDX-License-Identifier: Apache-2.0
// The automatic, proxy and unused build arguments.
#include "build_args.hpp"

#include "util/go_text.hpp"

#include <algorithm>

namespace xarch::dockerfile {

void VarList::set(std::string_view key, std::string_view value) {
    for (auto& [k, v] : entries_) {
        if (k == key) {
            v = std::string(value);
            return;
        }
    }
    entries_.emplace_back(std::string(key), std::string(value));
}

std::optional<std::string_view> VarList::get(std::string_view name) const {
    for (const auto& [k, v] : entries_) {
        if (k == name) {
            return std::string_view(v);
        }
    }
    return std::nullopt;
}

std::vector<std::string> VarList::keys() const {
    std::vector<std::string> out;
    out.reserve(entries_.size());
    for (const auto& entry : entries_) {
        out.push_back(entry.first);
    }
    return out;
}

const std::vector<std::string>& automatic_arg_names() {
    static const std::vector<std::string> kNames{
        "BUILDPLATFORM", "BUILDOS",        "BUILDOSVERSION", "BUILDARCH",
        "BUILDVARIANT",  "TARGETPLATFORM", "TARGETOS",       "TARGETOSVERSION",
        "TARGETARCH",    "TARGETVARIANT",  "TARGETSTAGE",
    };
    return kNames;
}

VarList default_args(const Platform& target,
                     const Platform& build,
                     std::string_view target_stage,
                     const std::map<std::string, std::string>& build_args) {
    const std::pair<const char*, std::string> values[] = {
        {"BUILDPLATFORM", build.to_string()},
        {"BUILDOS", build.os()},
        {"BUILDOSVERSION", build.os_version()},
        {"BUILDARCH", build.architecture()},
        {"BUILDVARIANT", build.variant()},
        {"TARGETPLATFORM", target.to_string_all()},
        {"TARGETOS", target.os()},
        {"TARGETOSVERSION", target.os_version()},
        {"TARGETARCH", target.architecture()},
        {"TARGETVARIANT", target.variant()},
        {"TARGETSTAGE", target_stage.empty() ? std::string("default") : std::string(target_stage)},
    };
    VarList out;
    for (const auto& [key, value] : values) {
        const auto it = build_args.find(key);
        out.set(key, it != build_args.end() ? it->second : value);
    }
    return out;
}

bool is_proxy_arg(std::string_view key) {
    const std::string lower = util::go::to_lower(key);
    if (lower != key && util::go::to_upper(key) != key) {
        return false;  // BuildKit's ProxyEnv folds case, Docker's allow-list has two spellings
    }
    return lower == "http_proxy" || lower == "https_proxy" || lower == "ftp_proxy" ||
           lower == "no_proxy" || lower == "all_proxy";
}

std::vector<std::pair<std::string, std::string>> proxy_args(
    const std::map<std::string, std::string>& build_args) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [key, value] : build_args) {
        if (is_proxy_arg(key)) {
            out.emplace_back(key, value);
        }
    }
    return out;
}

std::optional<std::string> unused_build_args_warning(
    const std::map<std::string, std::string>& build_args, const std::set<std::string>& consumed) {
    std::vector<std::string> left;
    const std::vector<std::string>& automatic = automatic_arg_names();
    for (const auto& entry : build_args) {
        const std::string& key = entry.first;
        if (consumed.contains(key) || is_proxy_arg(key) || key.starts_with("BUILDKIT_") ||
            std::find(automatic.begin(), automatic.end(), key) != automatic.end()) {
            continue;
        }
        left.push_back(key);
    }
    if (left.empty()) {
        return std::nullopt;
    }
    std::string names;
    for (const std::string& key : left) {
        if (!names.empty()) {
            names += ' ';
        }
        names += key;
    }
    return "[Warning] One or more build-args [" + names + "] were not consumed";
}

}  // namespace xarch::dockerfile
