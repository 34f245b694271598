// SPDX-License-Identifier: Apache-2.0
// The C API over xarch::emulators.
#include "capi_internal.hpp"

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::capi {
namespace {

// The flag bits this version knows.
constexpr uint32_t kKnownFlags = XARCH_EMULATORS_PRESERVE_ARGV0;

xarch_emulator_change_list* new_change_list(std::vector<emulators::Change> changes) {
    auto list = std::make_unique<xarch_emulator_change_list>();
    list->items.reserve(changes.size());
    for (emulators::Change& change : changes) {
        xarch_platform platform(change.platform);
        list->items.push_back({std::move(change), std::move(platform)});
    }
    return list.release();
}

}  // namespace

emulators::Options to_options(const xarch_emulators_options* options) {
    emulators::Options result;
    if (options == nullptr) {
        return result;
    }
    if (options->version == 0) {
        fail(ErrorCode::kInvalidArgument,
             "xarch_emulators_options.version is 0: initialize the struct with "
             "XARCH_EMULATORS_OPTIONS_INIT or xarch_emulators_options_init()");
    }
    if (options->version > XARCH_EMULATORS_OPTIONS_VERSION) {
        fail(ErrorCode::kUnsupported, "xarch_emulators_options version " +
                                          std::to_string(options->version) +
                                          " is newer than this library supports (" +
                                          std::to_string(XARCH_EMULATORS_OPTIONS_VERSION) + ")");
    }
    // Version 1 fields. Fields of later versions are read only when options->version covers them.
    if (options->binfmt_mount != nullptr) {
        result.binfmt_mount = options->binfmt_mount;
    }
    if (options->qemu_dir != nullptr) {
        result.qemu_dir = options->qemu_dir;
    }
    if (options->qemu_suffix != nullptr) {
        result.qemu_suffix = options->qemu_suffix;
    }
    if ((options->flags & ~kKnownFlags) != 0) {
        fail(
            ErrorCode::kInvalidArgument, "xarch_emulators_options.flags has unknown bits 0x" + [&] {
                char hex[16];
                std::snprintf(hex, sizeof hex, "%x",
                              static_cast<unsigned int>(options->flags & ~kKnownFlags));
                return std::string(hex);
            }());
    }
    result.preserve_argv0 = (options->flags & XARCH_EMULATORS_PRESERVE_ARGV0) != 0;
    return result;
}

}  // namespace xarch::capi

namespace capi = xarch::capi;
namespace emulators = xarch::emulators;

extern "C" {

int xarch_emulators_options_init(xarch_emulators_options* out, unsigned int version) {
    return capi::guard([&] {
        capi::require(out, "out");
        if (version == 0) {
            capi::fail(xarch::ErrorCode::kInvalidArgument, "options version 0 does not exist");
        }
        if (version > XARCH_EMULATORS_OPTIONS_VERSION) {
            capi::fail(xarch::ErrorCode::kUnsupported,
                       "xarch_emulators_options version " + std::to_string(version) +
                           " is newer than this library supports (" +
                           std::to_string(XARCH_EMULATORS_OPTIONS_VERSION) + ")");
        }
        // Only the fields of `version` are written: the caller's struct may be that small.
        out->version = version;
        out->binfmt_mount = nullptr;
        out->qemu_dir = nullptr;
        out->qemu_suffix = nullptr;
        out->flags = 0;
    });
}

// ---- xarch_emulator_list ------------------------------------------------------------------------

int xarch_emulators_list(xarch_emulator_list** out, const xarch_emulators_options* options) {
    return capi::guard([&] {
        capi::reset_out(out);
        std::vector<emulators::Emulator> found = emulators::list(capi::to_options(options));
        auto list = std::make_unique<xarch_emulator_list>();
        list->items.reserve(found.size());
        for (emulators::Emulator& emulator : found) {
            xarch_platform platform(emulator.platform);
            list->items.push_back({std::move(emulator), std::move(platform)});
        }
        *out = list.release();
    });
}

size_t xarch_emulator_list_size(const xarch_emulator_list* list) {
    return capi::guard(size_t{0},
                       [list]() -> size_t { return capi::require(list, "list")->items.size(); });
}

const xarch_platform* xarch_emulator_list_platform(const xarch_emulator_list* list, size_t index) {
    return capi::guard(
        nullptr, [&]() -> const xarch_platform* { return &capi::item(list, index).platform; });
}

const char* xarch_emulator_list_name(const xarch_emulator_list* list, size_t index) {
    return capi::guard(nullptr,
                       [&]() -> const char* { return capi::item(list, index).value.name.c_str(); });
}

const char* xarch_emulator_list_path(const xarch_emulator_list* list, size_t index) {
    return capi::guard(nullptr,
                       [&]() -> const char* { return capi::item(list, index).value.path.c_str(); });
}

int xarch_emulator_list_present(const xarch_emulator_list* list, size_t index) {
    return capi::guard(int{XARCH_EINVAL},
                       [&]() -> int { return capi::item(list, index).value.present ? 1 : 0; });
}

int xarch_emulator_list_registered(const xarch_emulator_list* list, size_t index) {
    return capi::guard(int{XARCH_EINVAL},
                       [&]() -> int { return capi::item(list, index).value.registered ? 1 : 0; });
}

void xarch_emulator_list_free(xarch_emulator_list* list) {
    capi::guard(capi::no_result, [list] { delete list; });
}

// ---- xarch_handler_list -------------------------------------------------------------------------

int xarch_emulators_handlers(xarch_handler_list** out, const xarch_emulators_options* options) {
    return capi::guard([&] {
        capi::reset_out(out);
        std::vector<emulators::Handler> found = emulators::handlers(capi::to_options(options));
        auto list = std::make_unique<xarch_handler_list>();
        list->items.reserve(found.size());
        for (emulators::Handler& handler : found) {
            std::optional<xarch_platform> platform;
            if (handler.platform) {
                platform.emplace(*handler.platform);
            }
            list->items.push_back({std::move(handler), std::move(platform)});
        }
        *out = list.release();
    });
}

size_t xarch_handler_list_size(const xarch_handler_list* list) {
    return capi::guard(size_t{0},
                       [list]() -> size_t { return capi::require(list, "list")->items.size(); });
}

const char* xarch_handler_list_name(const xarch_handler_list* list, size_t index) {
    return capi::guard(nullptr,
                       [&]() -> const char* { return capi::item(list, index).value.name.c_str(); });
}

int xarch_handler_list_enabled(const xarch_handler_list* list, size_t index) {
    return capi::guard(int{XARCH_EINVAL},
                       [&]() -> int { return capi::item(list, index).value.enabled ? 1 : 0; });
}

const char* xarch_handler_list_interpreter(const xarch_handler_list* list, size_t index) {
    return capi::guard(nullptr, [&]() -> const char* {
        return capi::item(list, index).value.interpreter.c_str();
    });
}

const char* xarch_handler_list_flags(const xarch_handler_list* list, size_t index) {
    return capi::guard(
        nullptr, [&]() -> const char* { return capi::item(list, index).value.flags.c_str(); });
}

const char* xarch_handler_list_magic(const xarch_handler_list* list, size_t index) {
    return capi::guard(
        nullptr, [&]() -> const char* { return capi::item(list, index).value.magic.c_str(); });
}

const char* xarch_handler_list_mask(const xarch_handler_list* list, size_t index) {
    return capi::guard(nullptr,
                       [&]() -> const char* { return capi::item(list, index).value.mask.c_str(); });
}

size_t xarch_handler_list_offset(const xarch_handler_list* list, size_t index) {
    return capi::guard(size_t{0}, [&]() -> size_t { return capi::item(list, index).value.offset; });
}

const char* xarch_handler_list_extension(const xarch_handler_list* list, size_t index) {
    return capi::guard(
        nullptr, [&]() -> const char* { return capi::item(list, index).value.extension.c_str(); });
}

const xarch_platform* xarch_handler_list_platform(const xarch_handler_list* list, size_t index) {
    return capi::guard(nullptr, [&]() -> const xarch_platform* {
        const auto& platform = capi::item(list, index).platform;
        return platform ? &*platform : nullptr;
    });
}

void xarch_handler_list_free(xarch_handler_list* list) {
    capi::guard(capi::no_result, [list] { delete list; });
}

// ---- Runnable platforms -------------------------------------------------------------------------

int xarch_emulators_native(xarch_platform_list** out) {
    return capi::guard([&] {
        capi::reset_out(out);
        *out = capi::new_platform_list(emulators::native_platforms());
    });
}

int xarch_emulators_runnable(xarch_platform_list** out, const xarch_emulators_options* options) {
    return capi::guard([&] {
        capi::reset_out(out);
        *out = capi::new_platform_list(emulators::runnable_platforms(capi::to_options(options)));
    });
}

// ---- Installing and removing --------------------------------------------------------------------

int xarch_emulators_install(xarch_emulator_change_list** out,
                            const char* spec,
                            const xarch_emulators_options* options) {
    return capi::guard([&] {
        capi::reset_out(out);
        capi::require(spec, "spec");
        *out = capi::new_change_list(emulators::install(spec, capi::to_options(options)));
    });
}

int xarch_emulators_uninstall(xarch_emulator_change_list** out,
                              const char* spec,
                              const xarch_emulators_options* options) {
    return capi::guard([&] {
        capi::reset_out(out);
        capi::require(spec, "spec");
        *out = capi::new_change_list(emulators::uninstall(spec, capi::to_options(options)));
    });
}

size_t xarch_emulator_change_list_size(const xarch_emulator_change_list* list) {
    return capi::guard(size_t{0},
                       [list]() -> size_t { return capi::require(list, "list")->items.size(); });
}

const char* xarch_emulator_change_list_name(const xarch_emulator_change_list* list, size_t index) {
    return capi::guard(nullptr,
                       [&]() -> const char* { return capi::item(list, index).value.name.c_str(); });
}

const xarch_platform* xarch_emulator_change_list_platform(const xarch_emulator_change_list* list,
                                                          size_t index) {
    return capi::guard(
        nullptr, [&]() -> const xarch_platform* { return &capi::item(list, index).platform; });
}

int xarch_emulator_change_list_outcome(const xarch_emulator_change_list* list, size_t index) {
    return capi::guard(int{XARCH_EINVAL}, [&]() -> int {
        return capi::to_c_outcome(capi::item(list, index).value.outcome);
    });
}

void xarch_emulator_change_list_free(xarch_emulator_change_list* list) {
    capi::guard(capi::no_result, [list] { delete list; });
}

}  // extern "C"
