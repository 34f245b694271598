// SPDX-License-Identifier: Apache-2.0
// The C API over xarch::Platform and xarch::PlatformMatcher.
#include "capi_internal.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xarch::capi {
namespace {

// Parses with `parse` into a new handle at *out.
template <class Parse>
void parse_into(xarch_platform** out, const char* text, Parse parse) {
    reset_out(out);
    require(text, "text");
    *out = new xarch_platform(parse(std::string_view(text)));
}

template <class Make>
void matcher_into(xarch_platform_matcher** out, Make make) {
    reset_out(out);
    *out = new xarch_platform_matcher{make()};
}

}  // namespace

std::vector<Platform> to_platforms(const xarch_platform* const* platforms,
                                   std::size_t n,
                                   const char* name) {
    std::vector<Platform> result;
    if (n == 0) {
        return result;
    }
    require(platforms, name);
    result.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        if (platforms[i] == nullptr) {
            fail(ErrorCode::kInvalidArgument, std::string("argument '") + name +
                                                  "' has a NULL element at index " +
                                                  std::to_string(i));
        }
        result.push_back(platforms[i]->value);
    }
    return result;
}

xarch_platform_list* new_platform_list(const std::vector<Platform>& platforms) {
    auto list = std::make_unique<xarch_platform_list>();
    list->items.reserve(platforms.size());
    for (const Platform& platform : platforms) {
        list->items.emplace_back(platform);
    }
    return list.release();
}

}  // namespace xarch::capi

using xarch::Platform;
using xarch::PlatformMatcher;
namespace capi = xarch::capi;

extern "C" {

// ---- xarch_platform -----------------------------------------------------------------------------

int xarch_platform_parse(xarch_platform** out, const char* text) {
    return capi::guard([&] { capi::parse_into(out, text, &Platform::parse); });
}

int xarch_platform_parse_unnormalized(xarch_platform** out, const char* text) {
    return capi::guard([&] { capi::parse_into(out, text, &Platform::parse_unnormalized); });
}

int xarch_platform_new(xarch_platform** out,
                       const char* os,
                       const char* architecture,
                       const char* variant) {
    return capi::guard([&] {
        capi::reset_out(out);
        capi::require(os, "os");
        capi::require(architecture, "architecture");
        if (*os == '\0' || *architecture == '\0') {
            capi::fail(xarch::ErrorCode::kInvalidArgument,
                       "a platform needs a non-empty os and architecture");
        }
        *out = new xarch_platform(Platform(os, architecture, variant ? variant : ""));
    });
}

int xarch_platform_host(xarch_platform** out) {
    return capi::guard([&] {
        capi::reset_out(out);
        *out = new xarch_platform(Platform::host());
    });
}

int xarch_platform_normalize(xarch_platform** out, const xarch_platform* platform) {
    return capi::guard([&] {
        capi::reset_out(out);
        *out = new xarch_platform(capi::require(platform, "platform")->value.normalized());
    });
}

int xarch_platform_clone(xarch_platform** out, const xarch_platform* platform) {
    return capi::guard([&] {
        capi::reset_out(out);
        *out = new xarch_platform(*capi::require(platform, "platform"));
    });
}

void xarch_platform_free(xarch_platform* platform) {
    capi::guard(capi::no_result, [platform] { delete platform; });
}

const char* xarch_platform_os(const xarch_platform* platform) {
    return capi::guard(nullptr, [platform]() -> const char* {
        return capi::require(platform, "platform")->value.os().c_str();
    });
}

const char* xarch_platform_architecture(const xarch_platform* platform) {
    return capi::guard(nullptr, [platform]() -> const char* {
        return capi::require(platform, "platform")->value.architecture().c_str();
    });
}

const char* xarch_platform_variant(const xarch_platform* platform) {
    return capi::guard(nullptr, [platform]() -> const char* {
        return capi::require(platform, "platform")->value.variant().c_str();
    });
}

const char* xarch_platform_os_version(const xarch_platform* platform) {
    return capi::guard(nullptr, [platform]() -> const char* {
        return capi::require(platform, "platform")->value.os_version().c_str();
    });
}

int xarch_platform_os_features(xarch_strarray* out, const xarch_platform* platform) {
    return capi::guard([&] {
        capi::require(out, "out");
        *out = XARCH_STRARRAY_INIT;
        capi::fill_strarray(out, capi::require(platform, "platform")->value.os_features());
    });
}

const char* xarch_platform_to_string(const xarch_platform* platform) {
    return capi::guard(nullptr, [platform]() -> const char* {
        return capi::require(platform, "platform")->text.c_str();
    });
}

const char* xarch_platform_to_string_all(const xarch_platform* platform) {
    return capi::guard(nullptr, [platform]() -> const char* {
        return capi::require(platform, "platform")->text_all.c_str();
    });
}

int xarch_platform_equal(const xarch_platform* a, const xarch_platform* b) {
    return capi::guard(
        [&] { return capi::require(a, "a")->value == capi::require(b, "b")->value ? 1 : 0; });
}

uint64_t xarch_platform_hash(const xarch_platform* platform) {
    return capi::guard(uint64_t{0}, [platform]() -> uint64_t {
        return std::hash<Platform>{}(capi::require(platform, "platform")->value);
    });
}

// ---- xarch_platform_list ------------------------------------------------------------------------

int xarch_platform_parse_list(xarch_platform_list** out, const char* text) {
    return capi::guard([&] {
        capi::reset_out(out);
        capi::require(text, "text");
        *out = capi::new_platform_list(Platform::parse_list(text));
    });
}

size_t xarch_platform_list_size(const xarch_platform_list* list) {
    return capi::guard(size_t{0},
                       [list]() -> size_t { return capi::require(list, "list")->items.size(); });
}

const xarch_platform* xarch_platform_list_get(const xarch_platform_list* list, size_t index) {
    return capi::guard(nullptr,
                       [&]() -> const xarch_platform* { return &capi::item(list, index); });
}

int xarch_platform_list_format(xarch_buf* out, const xarch_platform_list* list) {
    return capi::guard([&] {
        capi::require(out, "out");
        *out = XARCH_BUF_INIT;
        std::string text;
        for (const xarch_platform& platform : capi::require(list, "list")->items) {
            if (!text.empty()) {
                text += ',';
            }
            text += platform.text;
        }
        capi::fill_buf(out, text);
    });
}

void xarch_platform_list_free(xarch_platform_list* list) {
    capi::guard(capi::no_result, [list] { delete list; });
}

// ---- xarch_platform_matcher ---------------------------------------------------------------------

int xarch_platform_matcher_only(xarch_platform_matcher** out, const xarch_platform* platform) {
    return capi::guard([&] {
        capi::matcher_into(
            out, [&] { return PlatformMatcher::only(capi::require(platform, "platform")->value); });
    });
}

int xarch_platform_matcher_only_strict(xarch_platform_matcher** out,
                                       const xarch_platform* platform) {
    return capi::guard([&] {
        capi::matcher_into(out, [&] {
            return PlatformMatcher::only_strict(capi::require(platform, "platform")->value);
        });
    });
}

int xarch_platform_matcher_ordered(xarch_platform_matcher** out,
                                   const xarch_platform* const* platforms,
                                   size_t n) {
    return capi::guard([&] {
        capi::matcher_into(out, [&] {
            return PlatformMatcher::ordered(capi::to_platforms(platforms, n, "platforms"));
        });
    });
}

int xarch_platform_matcher_any(xarch_platform_matcher** out,
                               const xarch_platform* const* platforms,
                               size_t n) {
    return capi::guard([&] {
        capi::matcher_into(out, [&] {
            return PlatformMatcher::any(capi::to_platforms(platforms, n, "platforms"));
        });
    });
}

int xarch_platform_matcher_match(const xarch_platform_matcher* matcher,
                                 const xarch_platform* platform) {
    return capi::guard([&] {
        return capi::require(matcher, "matcher")
                       ->value.match(capi::require(platform, "platform")->value)
                   ? 1
                   : 0;
    });
}

int xarch_platform_matcher_less(const xarch_platform_matcher* matcher,
                                const xarch_platform* a,
                                const xarch_platform* b) {
    return capi::guard([&] {
        return capi::require(matcher, "matcher")
                       ->value.less(capi::require(a, "a")->value, capi::require(b, "b")->value)
                   ? 1
                   : 0;
    });
}

int xarch_platform_matcher_best(size_t* out,
                                const xarch_platform_matcher* matcher,
                                const xarch_platform* const* candidates,
                                size_t n) {
    return capi::guard([&] {
        capi::require(out, "out");
        const auto& value = capi::require(matcher, "matcher")->value;
        const std::vector<Platform> platforms = capi::to_platforms(candidates, n, "candidates");
        const std::optional<std::size_t> best = value.best(platforms);
        if (!best) {
            capi::fail(xarch::ErrorCode::kNotFound,
                       "none of the " + std::to_string(n) + " candidate platforms matches");
        }
        *out = *best;
    });
}

void xarch_platform_matcher_free(xarch_platform_matcher* matcher) {
    capi::guard(capi::no_result, [matcher] { delete matcher; });
}

}  // extern "C"
