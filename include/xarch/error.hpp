// SPDX-License-Identifier: Apache-2.0
// xarch::Error: the one exception type the library throws (with subclasses added by later modules).
#pragma once

#include <stdexcept>
#include <string>

namespace xarch {

// Stable classification of failures; the C ABI maps each to an XARCH_E* code and Python to an
// exception class. Append only.
enum class ErrorCode {
    kInvalidArgument = 1,  // the caller's input is malformed (a platform string, a flag value)
    kNotFound = 2,         // a named thing does not exist (an emulator, a handler, a file)
    kPermissionDenied =
        3,               // the operation needs privileges the process lacks (root for binfmt_misc)
    kUnsupported = 4,    // the host or kernel cannot do this (no binfmt_misc, foreign OS)
    kIo = 5,             // an operating-system call failed
    kAlreadyExists = 6,  // the thing to create is there already
    kCancelled = 7,      // the caller cancelled
    kInternal = 8,       // a bug in xarch
};

// A human-readable name of the code ("invalid argument").
const char* to_string(ErrorCode code) noexcept;

class Error : public std::runtime_error {
public:
    Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
    ErrorCode code() const noexcept { return code_; }

private:
    ErrorCode code_;
};

}  // namespace xarch
