// SPDX-License-Identifier: Apache-2.0
// Internals of the C API: the structs behind the opaque handles, capi::guard (exceptions -> the
// thread's last error and a status code), the one table of error codes, and helpers for
// arguments, lists and library-allocated memory. Never installed.
#pragma once

#include <xarch.h>
#include <xarch/builder.hpp>
#include <xarch/context.hpp>
#include <xarch/emulators.hpp>
#include <xarch/error.hpp>
#include <xarch/platform.hpp>
#include <xarch/reference.hpp>
#include <xarch/registry.hpp>

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

// ---- Handles ------------------------------------------------------------------------------------
// Defined in the global namespace: they complete the C header's `typedef struct xarch_x xarch_x`.

// An immutable platform. The strings are made once, up front, so that the handle is never written
// after it is made and may be read from several threads.
struct xarch_platform {
    explicit xarch_platform(xarch::Platform platform)
        : value(std::move(platform)), text(value.to_string()), text_all(value.to_string_all()) {}

    xarch::Platform value;
    std::string text;      // value.to_string()
    std::string text_all;  // value.to_string_all()
};

struct xarch_platform_list {
    std::vector<xarch_platform> items;
};

struct xarch_platform_matcher {
    xarch::PlatformMatcher value;
};

struct xarch_emulator_list {
    struct Item {
        xarch::emulators::Emulator value;
        xarch_platform platform;  // value.platform as a handle the list lends out
    };
    std::vector<Item> items;
};

struct xarch_handler_list {
    struct Item {
        xarch::emulators::Handler value;
        std::optional<xarch_platform> platform;  // value.platform as a handle
    };
    std::vector<Item> items;
};

struct xarch_emulator_change_list {
    struct Item {
        xarch::emulators::Change value;
        xarch_platform platform;  // value.platform as a handle
    };
    std::vector<Item> items;
};

// An immutable reference; its strings are made once, up front, like xarch_platform's.
struct xarch_reference {
    explicit xarch_reference(xarch::Reference reference)
        : value(std::move(reference)),
          name(value.name()),
          text(value.to_string()),
          familiar(value.familiar()) {}

    xarch::Reference value;
    std::string name;      // value.name()
    std::string text;      // value.to_string()
    std::string familiar;  // value.familiar()
};

// A registry client; xarch::Registry is thread-safe, so the handle may be shared by threads.
struct xarch_registry {
    explicit xarch_registry(xarch::RegistryOptions options) : value(std::move(options)) {}

    xarch::Registry value;
};

// A build context. Scans change the C++ object (it keeps the last one), so they hold the lock.
struct xarch_context {
    explicit xarch_context(xarch::BuildContext context)
        : value(std::move(context)), directory(value.directory().string()) {}

    std::mutex mutex;
    xarch::BuildContext value;
    std::string directory;  // value.directory()
};

// A builder; xarch::Builder is thread-safe, so the handle may be shared by threads.
struct xarch_builder {
    explicit xarch_builder(xarch::BuilderOptions options)
        : value(std::move(options)), cache_dir(value.cache_dir().string()) {}

    xarch::Builder value;
    std::string cache_dir;  // value.cache_dir()
};

// What a build made; immutable, its strings made once, up front.
struct xarch_build_result {
    struct Image {
        std::string platform;
        std::string manifest_digest;
        std::string config_digest;
    };
    std::string descriptor;  // OCI descriptor JSON
    std::string digest;
    std::string metadata_json;
    std::vector<Image> items;  // named `items` for capi::item()
    std::vector<std::string> warnings;
};

// The entries of a scan or of a COPY resolution; immutable.
struct xarch_context_files {
    struct Item {
        xarch::ContextEntry value;
        std::string digest;  // value.digest as text, "" when empty
    };
    std::vector<Item> items;
};

namespace xarch::capi {

// ---- Error codes: the one table -----------------------------------------------------------------

struct CodeInfo {
    int code;                           // XARCH_OK or XARCH_E*
    const char* name;                   // "XARCH_EINVAL"
    std::optional<ErrorCode> cpp_code;  // the xarch::ErrorCode it stands for, if any
};

inline constexpr CodeInfo kCodes[] = {
    {XARCH_OK, "XARCH_OK", std::nullopt},
    {XARCH_EINVAL, "XARCH_EINVAL", ErrorCode::kInvalidArgument},
    {XARCH_ENOTFOUND, "XARCH_ENOTFOUND", ErrorCode::kNotFound},
    {XARCH_EPERM, "XARCH_EPERM", ErrorCode::kPermissionDenied},
    {XARCH_EUNSUPPORTED, "XARCH_EUNSUPPORTED", ErrorCode::kUnsupported},
    {XARCH_EIO, "XARCH_EIO", ErrorCode::kIo},
    {XARCH_EEXIST, "XARCH_EEXIST", ErrorCode::kAlreadyExists},
    {XARCH_ECANCELLED, "XARCH_ECANCELLED", ErrorCode::kCancelled},
    {XARCH_EINTERNAL, "XARCH_EINTERNAL", ErrorCode::kInternal},
    {XARCH_ENOMEM, "XARCH_ENOMEM", std::nullopt},  // std::bad_alloc
    {XARCH_EUSER, "XARCH_EUSER", std::nullopt},    // a callback's nonzero return
    {XARCH_EAUTH, "XARCH_EAUTH", ErrorCode::kAuthentication},
    {XARCH_EDIGEST, "XARCH_EDIGEST", ErrorCode::kDigestMismatch},
    {XARCH_EREGISTRY, "XARCH_EREGISTRY", ErrorCode::kRegistry},
    {XARCH_ENETWORK, "XARCH_ENETWORK", ErrorCode::kNetwork},
    {XARCH_EBUILD, "XARCH_EBUILD", ErrorCode::kBuildFailed},
};

// The XARCH_E* code of an xarch::ErrorCode (XARCH_EINTERNAL for one the table lacks).
constexpr int to_c_code(ErrorCode code) noexcept {
    for (const CodeInfo& info : kCodes) {
        if (info.cpp_code == code) {
            return info.code;
        }
    }
    return XARCH_EINTERNAL;
}

// The name of a code ("XARCH_E?" for an unknown one).
constexpr const char* code_name(int code) noexcept {
    for (const CodeInfo& info : kCodes) {
        if (info.code == code) {
            return info.name;
        }
    }
    return "XARCH_E?";
}

// ---- Enums: the C values mirror the C++ ones ----------------------------------------------------

// The C enum mirrors emulators::Outcome value for value.
constexpr int to_c_outcome(emulators::Outcome outcome) noexcept {
    return static_cast<int>(outcome);
}
static_assert(to_c_outcome(emulators::Outcome::kInstalled) == XARCH_EMULATOR_OUTCOME_INSTALLED);
static_assert(to_c_outcome(emulators::Outcome::kAlreadyInstalled) ==
              XARCH_EMULATOR_OUTCOME_ALREADY_INSTALLED);
static_assert(to_c_outcome(emulators::Outcome::kNative) == XARCH_EMULATOR_OUTCOME_NATIVE);
static_assert(to_c_outcome(emulators::Outcome::kUninstalled) == XARCH_EMULATOR_OUTCOME_UNINSTALLED);
static_assert(to_c_outcome(emulators::Outcome::kNotInstalled) ==
              XARCH_EMULATOR_OUTCOME_NOT_INSTALLED);

// ---- The thread's last error --------------------------------------------------------------------

// Sets the thread's last error to success.
void clear_error() noexcept;
// Sets the thread's last error from the exception being handled (call only inside a catch) and
// returns its XARCH_E* code.
int record_current_exception() noexcept;

// ---- guard: the body of every exported function -------------------------------------------------

// For functions returning a status: runs `body`; on success clears the last error and returns
// XARCH_OK (a void body) or the body's non-negative result (a predicate's 1/0); on an exception
// records it and returns its code.
template <class F>
int guard(F&& body) noexcept {
    try {
        if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
            body();
            clear_error();
            return XARCH_OK;
        } else {
            const int result = body();
            clear_error();
            return result;
        }
    } catch (...) {
        return record_current_exception();
    }
}

// For getters: returns the body's result, or `fallback` after recording the exception. The last
// error is left alone on success, so that reading a result does not erase a failure.
template <class F>
std::invoke_result_t<F&> guard(std::invoke_result_t<F&> fallback, F&& body) noexcept {
    try {
        return body();
    } catch (...) {
        record_current_exception();
        return fallback;
    }
}

// For functions returning nothing (_free, _dispose): like the getter form.
struct NoResult {};
inline constexpr NoResult no_result{};

template <class F>
void guard(NoResult /*unused*/, F&& body) noexcept {
    try {
        body();
    } catch (...) {
        record_current_exception();
    }
}

// ---- Arguments ----------------------------------------------------------------------------------

[[noreturn]] void fail(ErrorCode code, const std::string& message);

// `pointer`, or Error(kInvalidArgument) naming the argument when it is NULL.
template <class T>
T* require(T* pointer, const char* name) {
    if (pointer == nullptr) {
        fail(ErrorCode::kInvalidArgument, std::string("argument '") + name + "' must not be NULL");
    }
    return pointer;
}

// Checks an `out` parameter and sets *out to NULL, so that it is NULL whenever the call fails.
template <class T>
T** reset_out(T** out) {
    require(out, "out");
    *out = nullptr;
    return out;
}

// The strings of a C array (NULL allowed only when count is 0; no NULL elements).
std::vector<std::string> to_strings(const char* const* items, std::size_t count, const char* name);

// A versioned options struct's `version`: 0 is a caller that forgot the _INIT macro
// (kInvalidArgument), one newer than `newest` needs a newer library (kUnsupported).
void check_version(unsigned int version, const char* name, unsigned int newest);

// The platforms of a C array (NULL allowed only when n is 0; no NULL elements).
std::vector<Platform> to_platforms(const xarch_platform* const* platforms,
                                   std::size_t n,
                                   const char* name);

// The item `index` of a list handle, or Error(kInvalidArgument) for a NULL list or a bad index.
template <class List>
const auto& item(const List* list, std::size_t index) {
    require(list, "list");
    if (index >= list->items.size()) {
        fail(ErrorCode::kInvalidArgument, "index " + std::to_string(index) +
                                              " is out of range (the list has " +
                                              std::to_string(list->items.size()) + " items)");
    }
    return list->items[index];
}

// A new platform list handle over `platforms`.
xarch_platform_list* new_platform_list(const std::vector<Platform>& platforms);

// ---- Library-allocated memory (released with xarch_free) ----------------------------------------

// A malloc'ed, NUL-terminated copy; throws std::bad_alloc.
char* duplicate(std::string_view text);
// Fills *out (overwriting it) with a copy of `text`.
void fill_buf(xarch_buf* out, std::string_view text);
// Fills *out (overwriting it) with copies of `strings`.
void fill_strarray(xarch_strarray* out, const std::vector<std::string>& strings);

// ---- Options ------------------------------------------------------------------------------------

// The C++ options for a C options struct (NULL: defaults), reading only the fields of its version.
emulators::Options to_options(const xarch_emulators_options* options);
// The same for xarch_registry_options (registry_c.cpp); builders take them too.
RegistryOptions to_registry_options(const xarch_registry_options* options);

}  // namespace xarch::capi
