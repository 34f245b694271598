// SPDX-License-Identifier: Apache-2.0
#include "emulation/spec.hpp"

#include "util/quote.hpp"
#include "util/strings.hpp"

#include <xarch/error.hpp>

#include <algorithm>
#include <string>

namespace xarch::emulation {

using util::trim;

namespace {

std::string known_list() {
    std::string platforms;
    std::string names;
    for (const auto& emulator : known_emulators()) {
        platforms += (platforms.empty() ? "" : ", ") + emulator.platform().to_string();
        names += (names.empty() ? "" : ", ") + emulator.handler_name();
    }
    return "known platforms: " + platforms + "; emulator names: " + names + "; or \"all\"";
}

[[noreturn]] void throw_unknown(std::string_view item,
                                std::string_view spec,
                                std::string_view why) {
    std::string message = "unknown emulator " + util::quote(item);
    if (item != spec) {
        message += " in " + util::quote(spec);
    }
    if (!why.empty()) {
        message += " (" + std::string(why) + ")";
    }
    throw Error(ErrorCode::kInvalidArgument, message + "; " + known_list());
}

const KnownEmulator* resolve_item(std::string_view item, std::string_view spec) {
    if (const auto* emulator = find_emulator_by_name(item)) {
        return emulator;
    }
    Platform platform;
    try {
        platform = Platform::parse(item);
    } catch (const Error&) {
        throw_unknown(item, spec, {});  // the known names say more than the parser's reason
    }
    if (platform.os() != "linux") {
        throw_unknown(item, spec, "QEMU user emulation runs Linux programs only");
    }
    if (const auto* emulator = find_emulator(platform)) {
        return emulator;
    }
    throw_unknown(item, spec, {});
}

}  // namespace

bool is_all(std::string_view spec) {
    spec = trim(spec);
    return spec.size() == 3 && std::equal(spec.begin(), spec.end(), "all", [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == b;
           });
}

std::vector<const KnownEmulator*> resolve_spec(std::string_view spec) {
    if (trim(spec).empty()) {
        throw Error(ErrorCode::kInvalidArgument,
                    "no emulators named: " + util::quote(spec) + "; " + known_list());
    }
    std::vector<const KnownEmulator*> emulators;
    std::string_view rest = spec;
    for (;;) {
        const auto comma = rest.find(',');
        const auto item = trim(rest.substr(0, comma));
        if (item.empty()) {
            throw Error(ErrorCode::kInvalidArgument,
                        "empty element in emulator list " + util::quote(spec));
        }
        const auto* emulator = resolve_item(item, spec);
        if (std::find(emulators.begin(), emulators.end(), emulator) == emulators.end()) {
            emulators.push_back(emulator);
        }
        if (comma == std::string_view::npos) {
            return emulators;
        }
        rest.remove_prefix(comma + 1);
    }
}

}  // namespace xarch::emulation
