// SPDX-License-Identifier: Apache-2.0
// The C API over xarch::BuildContext: contexts made from a directory or a tar stream with their
// settings, scans as immutable file lists, and COPY source resolution over a list.
#include "capi_internal.hpp"

#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace xarch::capi {
namespace {

constexpr uint32_t kKnownScanFlags = XARCH_SCAN_NO_CACHE;

void apply(BuildContext& ctx, const xarch_context_options* options) {
    if (options == nullptr) {
        return;
    }
    check_version(options->version, "xarch_context_options", XARCH_CONTEXT_OPTIONS_VERSION);
    // Version 1 fields.
    if (options->dockerfile_text != nullptr) {
        ctx.set_dockerfile_text(options->dockerfile_text);
    } else if (options->dockerfile != nullptr) {
        ctx.set_dockerfile(options->dockerfile);
    }
    if (options->target != nullptr) {
        ctx.set_target(options->target);
    }
    for (const std::string& s :
         to_strings(options->build_args, options->build_args_count, "build_args")) {
        ctx.add_build_arg(s);
    }
    for (const std::string& s : to_strings(options->labels, options->labels_count, "labels")) {
        ctx.add_label(s);
    }
    for (const std::string& s :
         to_strings(options->named_contexts, options->named_contexts_count, "named_contexts")) {
        ctx.add_named_context(s);
    }
    for (const std::string& s : to_strings(options->secrets, options->secrets_count, "secrets")) {
        ctx.add_secret(s);
    }
    for (const std::string& s : to_strings(options->ssh, options->ssh_count, "ssh")) {
        ctx.add_ssh(s);
    }
}

ScanOptions to_scan_options(const xarch_scan_options* options) {
    ScanOptions out;
    if (options == nullptr) {
        return out;
    }
    check_version(options->version, "xarch_scan_options", XARCH_SCAN_OPTIONS_VERSION);
    if ((options->flags & ~kKnownScanFlags) != 0) {
        char hex[16];
        std::snprintf(hex, sizeof hex, "%x",
                      static_cast<unsigned int>(options->flags & ~kKnownScanFlags));
        fail(ErrorCode::kInvalidArgument,
             std::string("xarch_scan_options.flags has unknown bits 0x") + hex);
    }
    if (options->cache_dir != nullptr) {
        out.cache_dir = options->cache_dir;
    }
    out.threads = options->threads;
    out.use_cache = (options->flags & XARCH_SCAN_NO_CACHE) == 0;
    return out;
}

xarch_context_files* new_files(const std::vector<ContextEntry>& entries) {
    auto files = std::make_unique<xarch_context_files>();
    files->items.reserve(entries.size());
    for (const ContextEntry& e : entries) {
        files->items.push_back({e, e.digest.to_string()});
    }
    return files.release();
}

}  // namespace
}  // namespace xarch::capi

namespace capi = xarch::capi;

extern "C" {

int xarch_context_options_init(xarch_context_options* out, unsigned int version) {
    return capi::guard([&] {
        capi::require(out, "out");
        const xarch_context_options probe{version, nullptr, nullptr, nullptr, nullptr,
                                          0,       nullptr, 0,       nullptr, 0,
                                          nullptr, 0,       nullptr, 0};
        capi::check_version(probe.version, "xarch_context_options", XARCH_CONTEXT_OPTIONS_VERSION);
        // Only the fields of `version` are written: the caller's struct may be that small.
        *out = probe;
    });
}

int xarch_scan_options_init(xarch_scan_options* out, unsigned int version) {
    return capi::guard([&] {
        capi::require(out, "out");
        const xarch_scan_options probe{version, nullptr, 0, 0};
        capi::check_version(probe.version, "xarch_scan_options", XARCH_SCAN_OPTIONS_VERSION);
        *out = probe;
    });
}

int xarch_context_new(xarch_context** out, const char* path, const xarch_context_options* options) {
    return capi::guard([&] {
        capi::reset_out(out);
        xarch::BuildContext ctx = xarch::BuildContext::from_directory(capi::require(path, "path"));
        capi::apply(ctx, options);
        *out = new xarch_context(std::move(ctx));
    });
}

int xarch_context_new_from_tar(xarch_context** out, int fd, const xarch_context_options* options) {
    return capi::guard([&] {
        capi::reset_out(out);
        if (fd < 0) {
            capi::fail(xarch::ErrorCode::kInvalidArgument,
                       "fd " + std::to_string(fd) + " is not a file descriptor");
        }
        xarch::BuildContext ctx = xarch::BuildContext::from_tar_fd(fd);
        capi::apply(ctx, options);
        *out = new xarch_context(std::move(ctx));
    });
}

void xarch_context_free(xarch_context* ctx) {
    capi::guard(capi::no_result, [ctx] { delete ctx; });
}

const char* xarch_context_directory(const xarch_context* ctx) {
    return capi::guard(
        nullptr, [ctx]() -> const char* { return capi::require(ctx, "ctx")->directory.c_str(); });
}

int xarch_context_dockerfile(xarch_buf* out, const xarch_context* ctx) {
    return capi::guard([&] {
        capi::require(out, "out");
        capi::fill_buf(out, capi::require(ctx, "ctx")->value.dockerfile_text());
    });
}

int xarch_context_ignore_patterns(xarch_strarray* out, const xarch_context* ctx) {
    return capi::guard([&] {
        capi::require(out, "out");
        capi::fill_strarray(out, capi::require(ctx, "ctx")->value.ignore_patterns());
    });
}

int xarch_context_scan(xarch_context_files** out,
                       xarch_context* ctx,
                       const xarch_scan_options* options) {
    return capi::guard([&] {
        capi::reset_out(out);
        capi::require(ctx, "ctx");
        const xarch::ScanOptions scan_options = capi::to_scan_options(options);
        const std::lock_guard lock(ctx->mutex);
        *out = capi::new_files(ctx->value.scan(scan_options));
    });
}

size_t xarch_context_files_size(const xarch_context_files* files) {
    return capi::guard(size_t{0},
                       [files]() -> size_t { return capi::require(files, "files")->items.size(); });
}

const char* xarch_context_files_path(const xarch_context_files* files, size_t index) {
    return capi::guard(
        nullptr, [&]() -> const char* { return capi::item(files, index).value.path.c_str(); });
}

int xarch_context_files_type(const xarch_context_files* files, size_t index) {
    return capi::guard(XARCH_EINVAL, [&]() -> int {
        return static_cast<int>(capi::item(files, index).value.type);
    });
}

const char* xarch_context_files_digest(const xarch_context_files* files, size_t index) {
    return capi::guard(nullptr,
                       [&]() -> const char* { return capi::item(files, index).digest.c_str(); });
}

int64_t xarch_context_files_file_size(const xarch_context_files* files, size_t index) {
    return capi::guard(int64_t{0},
                       [&]() -> int64_t { return capi::item(files, index).value.size; });
}

uint32_t xarch_context_files_mode(const xarch_context_files* files, size_t index) {
    return capi::guard(uint32_t{0},
                       [&]() -> uint32_t { return capi::item(files, index).value.mode; });
}

int64_t xarch_context_files_mtime_ns(const xarch_context_files* files, size_t index) {
    return capi::guard(int64_t{0},
                       [&]() -> int64_t { return capi::item(files, index).value.mtime_ns; });
}

const char* xarch_context_files_link_target(const xarch_context_files* files, size_t index) {
    return capi::guard(nullptr, [&]() -> const char* {
        return capi::item(files, index).value.link_target.c_str();
    });
}

int xarch_context_files_resolve_copy(xarch_context_files** out,
                                     const xarch_context_files* files,
                                     const char* const* sources,
                                     size_t sources_count,
                                     const char* destination) {
    return capi::guard([&] {
        capi::reset_out(out);
        capi::require(files, "files");
        std::vector<xarch::ContextEntry> entries;
        entries.reserve(files->items.size());
        for (const xarch_context_files::Item& item : files->items) {
            entries.push_back(item.value);
        }
        const std::vector<xarch::CopySourceMatch> matches = xarch::resolve_copy_sources(
            entries, capi::to_strings(sources, sources_count, "sources"),
            destination != nullptr ? destination : "");
        // One list: every match, in the scan's (walk) order, each entry once.
        std::unordered_map<std::string_view, std::size_t> position;
        position.reserve(entries.size());
        for (std::size_t i = 0; i < entries.size(); ++i) {
            position.emplace(entries[i].path, i);
        }
        std::vector<char> taken(entries.size(), 0);
        for (const xarch::CopySourceMatch& m : matches) {
            for (const xarch::ContextEntry& e : m.entries) {
                const auto it = position.find(e.path);
                if (it != position.end()) {
                    taken[it->second] = 1;
                }
            }
        }
        std::vector<xarch::ContextEntry> merged;
        for (std::size_t i = 0; i < entries.size(); ++i) {
            if (taken[i] != 0) {
                merged.push_back(entries[i]);
            }
        }
        *out = capi::new_files(merged);
    });
}

void xarch_context_files_free(xarch_context_files* files) {
    capi::guard(capi::no_result, [files] { delete files; });
}

}  // extern "C"
