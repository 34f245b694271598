// SPDX-License-Identifier: Apache-2.0
// xarch::Error: the exception type the library throws, and its subclasses for Dockerfile and
// registry failures.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace xarch {

// Stable classification of failures; the C ABI maps each to an XARCH_E* code and Python to an
// exception class. Append only.
enum class ErrorCode {
    kInvalidArgument = 1,   // the caller's input is malformed (a platform string, a reference)
    kNotFound = 2,          // a named thing does not exist (an emulator, a file, a manifest)
    kPermissionDenied = 3,  // privileges are missing (root for binfmt_misc, a denied scope)
    kUnsupported = 4,       // the host, kernel or server cannot do this
    kIo = 5,                // an operating-system call failed
    kAlreadyExists = 6,     // the thing to create is there already
    kCancelled = 7,         // the caller cancelled
    kInternal = 8,          // a bug in xarch
    kAuthentication = 9,    // credentials are missing or were refused
    kDigestMismatch = 10,   // content does not match its digest or size
    kRegistry = 11,         // a registry answered with an error not covered above
    kNetwork = 12,          // a connection failed, was reset or timed out
    kBuildFailed = 13,      // a build step ran and failed: a RUN exited non-zero or was killed
};

// The code's stable identifier: "invalid_argument", "not_found", ... (Python's Error.code).
const char* to_string(ErrorCode code) noexcept;

class Error : public std::runtime_error {
public:
    Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
    ErrorCode code() const noexcept { return code_; }

private:
    ErrorCode code_;
};

// A registry answered with an error (or could not be reached): the HTTP status (0 when there was
// no answer), the distribution-spec error code ("MANIFEST_UNKNOWN", "" when the body had none)
// and whether trying again later may succeed (5xx, 429, connection resets).
class RegistryError : public Error {
public:
    RegistryError(ErrorCode code,
                  const std::string& message,
                  int http_status = 0,
                  std::string distribution_code = {},
                  bool temporary = false)
        : Error(code, message),
          http_status_(http_status),
          distribution_code_(std::move(distribution_code)),
          temporary_(temporary) {}

    int http_status() const noexcept { return http_status_; }
    const std::string& distribution_code() const noexcept { return distribution_code_; }
    bool temporary() const noexcept { return temporary_; }

private:
    int http_status_;
    std::string distribution_code_;
    bool temporary_;
};

// A Dockerfile could not be read: a parse error, a bad instruction or flag, an unknown stage. It
// carries the place: what() is "FILE:LINE: DETAIL" ("FILE: DETAIL" when not tied to a line).
// Code kInvalidArgument.
class DockerfileError : public Error {
public:
    DockerfileError(std::string file, int start_line, int end_line, std::string detail);

    const std::string& file() const noexcept { return file_; }
    int start_line() const noexcept { return start_line_; }  // 1-based; 0 when not tied to a line
    int end_line() const noexcept { return end_line_; }      // >= start_line
    const std::string& detail() const noexcept { return detail_; }  // the message alone

protected:
    // For subclasses with their own code; `message` is what() verbatim.
    DockerfileError(ErrorCode code,
                    const std::string& message,
                    std::string file,
                    int start_line,
                    int end_line,
                    std::string detail);

private:
    std::string file_;
    int start_line_;
    int end_line_;
    std::string detail_;
};

// Credentials are missing or were refused (HTTP 401, or a token service's refusal).
class AuthError : public RegistryError {
public:
    AuthError(const std::string& message, int http_status = 401, std::string distribution_code = {})
        : RegistryError(ErrorCode::kAuthentication,
                        message,
                        http_status,
                        std::move(distribution_code),
                        false) {}
};

// A build step ran and failed: a RUN exited non-zero or was killed (code kBuildFailed). Beyond
// the Dockerfile place it names the step as the progress events show it ("[linux/arm64 2/2] RUN
// exit 3"), the platform it ran for, the process's exit code and its last lines of output.
class BuildError : public DockerfileError {
public:
    struct Step {
        std::string name;                     // the step's progress name
        std::string platform;                 // "linux/arm64"; "" when not known
        int exit_code = -1;                   // 128 + signal when killed; -1 when not known
        std::vector<std::string> last_lines;  // the last lines the process printed
    };

    // A step at a Dockerfile line: what() is "FILE:LINE: DETAIL", like DockerfileError's.
    BuildError(std::string file, int start_line, int end_line, std::string detail, Step step);
    // A step reported by a driver that knows no line: what() is `message` as given.
    BuildError(const std::string& message, Step step);

    const std::string& step() const noexcept { return step_.name; }
    const std::string& platform() const noexcept { return step_.platform; }
    int exit_code() const noexcept { return step_.exit_code; }
    const std::vector<std::string>& last_lines() const noexcept { return step_.last_lines; }

private:
    Step step_;
};

}  // namespace xarch
