// SPDX-License-Identifier: Apache-2.0
// binfmt_misc's file interface: mounting it, reading its entries, registering and removing
// handlers. Works on any directory that has a `status` file, so tests use a fake one, where
// `register` and the entries are regular files that writes append to.
#pragma once

#include "util/unique_fd.hpp"

#include <xarch/emulators.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::emulation {

// Lower-case hex, as the kernel prints magic and mask.
std::string to_hex(std::string_view bytes);
// The bytes of a hex string; nullopt when it is not hex.
std::optional<std::string> from_hex(std::string_view hex);
// Every byte as \xNN, the form `register` unescapes; no byte can be taken for a separator.
std::string escape_bytes(std::string_view bytes);

// An entry as the kernel prints it (fs/binfmt_misc.c entry_status), mapped to a platform when it
// is an ELF magic of a machine xarch knows. Unknown lines are ignored.
emulators::Handler parse_handler(std::string name, std::string_view text);

// Mounts binfmt_misc at `dir` unless it (or a fake) is there, i.e. unless `dir`/status exists.
// Throws Error(kPermissionDenied or kUnsupported) saying what to run as root.
void ensure_mounted(const std::string& dir);

// Every entry of `dir` but `register` and `status`, by name. Calls ensure_mounted.
std::vector<emulators::Handler> read_handlers(const std::string& dir);

// One registration, as written to `register`: ":name:M:offset:magic:mask:interpreter:flags".
// Throws Error(kInvalidArgument) when a field contains a character the format cannot carry.
std::string register_line(std::string_view name,
                          std::string_view magic,
                          std::string_view mask,
                          std::string_view interpreter,
                          std::string_view flags);

// `register`, opened for writing once so that a missing privilege shows before any change.
class Registrar {
public:
    // Throws Error(kPermissionDenied) when the process may not register handlers.
    explicit Registrar(const std::string& dir);

    // Writes one line from register_line(). Throws Error with the code matching errno
    // (kAlreadyExists, kPermissionDenied, kNotFound for a vanished interpreter, kIo).
    void add(std::string_view name, const std::string& line);

private:
    std::string dir_;
    util::UniqueFd fd_;
};

// Removes the entry `dir`/`name` (writes "-1" to it). False when there is no such entry.
// Throws Error(kPermissionDenied) or Error(kIo).
bool remove_handler(const std::string& dir, std::string_view name);

}  // namespace xarch::emulation
