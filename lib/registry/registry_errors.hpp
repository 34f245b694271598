// SPDX-License-Identifier: Apache-2.0
// A registry's error answers turned into xarch errors: the distribution spec's error body
// ({"errors":[{"code","message","detail"}]}), the HTTP status, and whether to try again.
#pragma once

#include <xarch/error.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::registry {

// Error bodies are read up to this size; beyond it they are cut (an error body is a sentence,
// a huge one is hostile or broken).
inline constexpr std::size_t kMaxErrorBody = 64 * 1024;

struct DistributionError {
    std::string code;     // "MANIFEST_UNKNOWN"; may be empty
    std::string message;  // "manifest unknown"
};

// The errors of a distribution error body; empty when the body is not one (HTML from a proxy,
// truncated JSON, anything over kMaxErrorBody). Never throws.
std::vector<DistributionError> parse_error_body(std::string_view body);

// HTTP statuses worth retrying: 408, 429 and 5xx except 501 and 505 (which will not change).
bool is_temporary_status(int status);

// The reason phrase of common statuses ("Not Found"), "" for others.
std::string_view status_text(int status);

// Everything needed to throw the right exception for a failed request.
struct ErrorInfo {
    ErrorCode code = ErrorCode::kRegistry;
    std::string message;
    int http_status = 0;
    std::string distribution_code;
    bool temporary = false;
};

// The error for an unexpected HTTP answer to `method url`:
//   GET https://127.0.0.1:5000/v2/library/busybox/manifests/latest: 404 MANIFEST_UNKNOWN:
//   manifest unknown
// The URL loses its query (upload state, signatures); the registry's message is cut and its
// control characters escaped. Codes: 401 kAuthentication, 403 kPermissionDenied, 404
// kNotFound, DIGEST_INVALID/SIZE_INVALID kDigestMismatch, 405/UNSUPPORTED kUnsupported,
// otherwise kRegistry; temporary per is_temporary_status() or TOOMANYREQUESTS.
ErrorInfo describe_http_error(std::string_view method,
                              std::string_view url,
                              int status,
                              std::string_view body);

// Throws AuthError for kAuthentication, RegistryError otherwise.
[[noreturn]] void throw_error(ErrorInfo info);

// `text` for a message: control and non-ASCII bytes escaped as \xNN, cut to `max` characters.
std::string sanitize_for_message(std::string_view text, std::size_t max = 300);

// `message` with every occurrence of each non-empty secret replaced by "<redacted>".
std::string redact(std::string message, const std::vector<std::string>& secrets);

}  // namespace xarch::registry
