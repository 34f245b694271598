// SPDX-License-Identifier: Apache-2.0
// The C API's version, features, initialization and memory functions.
#include "capi_internal.hpp"

#include <xarch/version.hpp>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <string_view>
#include <vector>

// The C header repeats the C++ header's version macros (the C header must stand alone); both are
// included here, so a mismatch fails the build (a redefinition) and these asserts say so plainly.
static_assert(XARCH_VERSION_NUMBER ==
                  XARCH_VERSION_MAJOR * 10000 + XARCH_VERSION_MINOR * 100 + XARCH_VERSION_PATCH,
              "XARCH_VERSION_NUMBER does not match XARCH_VERSION_MAJOR/MINOR/PATCH");
static_assert(XARCH_VERSION_CHECK(0, 0, 0) && !XARCH_VERSION_CHECK(XARCH_VERSION_MAJOR + 1, 0, 0),
              "XARCH_VERSION_CHECK is broken");

namespace xarch::capi {
namespace {

// Constant-initialized: no static constructor runs for it.
std::atomic<int> init_count{0};

}  // namespace

std::vector<std::string> to_strings(const char* const* items, std::size_t count, const char* name) {
    if (count != 0) {
        require(items, name);
    }
    std::vector<std::string> out;
    out.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        if (items[i] == nullptr) {
            fail(ErrorCode::kInvalidArgument,
                 std::string(name) + "[" + std::to_string(i) + "] must not be NULL");
        }
        out.emplace_back(items[i]);
    }
    return out;
}

void check_version(unsigned int version, const char* name, unsigned int newest) {
    if (version == 0) {
        fail(ErrorCode::kInvalidArgument, std::string(name) +
                                              ".version is 0: initialize the struct with its "
                                              "_INIT macro or _init() function");
    }
    if (version > newest) {
        fail(ErrorCode::kUnsupported, std::string(name) + " version " + std::to_string(version) +
                                          " is newer than this library supports (" +
                                          std::to_string(newest) + "): upgrade libxarch");
    }
}

char* duplicate(std::string_view text) {
    auto* copy = static_cast<char*>(std::malloc(text.size() + 1));
    if (copy == nullptr) {
        throw std::bad_alloc();
    }
    text.copy(copy, text.size());
    copy[text.size()] = '\0';
    return copy;
}

void fill_buf(xarch_buf* out, std::string_view text) {
    *out = XARCH_BUF_INIT;
    out->ptr = duplicate(text);
    out->size = text.size();
}

void fill_strarray(xarch_strarray* out, const std::vector<std::string>& strings) {
    *out = XARCH_STRARRAY_INIT;
    if (strings.empty()) {
        return;
    }
    xarch_strarray result = XARCH_STRARRAY_INIT;
    result.strings = static_cast<char**>(std::calloc(strings.size(), sizeof(char*)));
    if (result.strings == nullptr) {
        throw std::bad_alloc();
    }
    try {
        for (const std::string& s : strings) {
            result.strings[result.count] = duplicate(s);
            ++result.count;
        }
    } catch (...) {
        xarch_strarray_dispose(&result);
        throw;
    }
    *out = result;
}

}  // namespace xarch::capi

extern "C" {

const char* xarch_version(void) {
    // xarch::version() views a string literal, so data() is NUL-terminated and static.
    return xarch::capi::guard(static_cast<const char*>(""),
                              []() -> const char* { return xarch::version().data(); });
}

int xarch_abi_version(void) {
    return xarch::capi::guard(-1, [] { return xarch::abi_version(); });
}

uint32_t xarch_features(void) {
    return xarch::capi::guard(uint32_t{0}, []() -> uint32_t {
        uint32_t features = XARCH_FEATURE_PLATFORM | XARCH_FEATURE_REGISTRY |
                            XARCH_FEATURE_CONTEXT | XARCH_FEATURE_BUILDER;
#if defined(__linux__)
        features |= XARCH_FEATURE_EMULATORS;
#endif
        return features;
    });
}

int xarch_init(void) {
    return xarch::capi::guard([] {
        // Nothing global to set up yet; the first caller would do it here, the last
        // xarch_shutdown() would undo it.
        xarch::capi::init_count.fetch_add(1, std::memory_order_acq_rel);
    });
}

void xarch_shutdown(void) {
    xarch::capi::guard(xarch::capi::no_result, [] {
        int count = xarch::capi::init_count.load(std::memory_order_acquire);
        while (count > 0 && !xarch::capi::init_count.compare_exchange_weak(
                                count, count - 1, std::memory_order_acq_rel)) {
        }
    });
}

void xarch_buf_dispose(xarch_buf* buf) {
    xarch::capi::guard(xarch::capi::no_result, [buf] {
        if (buf != nullptr) {
            std::free(buf->ptr);
            *buf = XARCH_BUF_INIT;
        }
    });
}

void xarch_strarray_dispose(xarch_strarray* array) {
    xarch::capi::guard(xarch::capi::no_result, [array] {
        if (array == nullptr) {
            return;
        }
        if (array->strings != nullptr) {
            for (size_t i = 0; i < array->count; ++i) {
                std::free(array->strings[i]);
            }
            std::free(array->strings);
        }
        *array = XARCH_STRARRAY_INIT;
    });
}

void xarch_free(void* ptr) {
    xarch::capi::guard(xarch::capi::no_result, [ptr] { std::free(ptr); });
}

}  // extern "C"
