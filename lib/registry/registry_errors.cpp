// SPDX-License-Identifier: Apache-2.0
#include "registry/registry_errors.hpp"

#include "registry/url.hpp"
#include "util/strings.hpp"

#include <boost/json.hpp>

#include <utility>

namespace xarch::registry {

namespace {

ErrorCode code_for(int status, std::string_view distribution_code) {
    if (distribution_code == "DIGEST_INVALID" || distribution_code == "SIZE_INVALID") {
        return ErrorCode::kDigestMismatch;
    }
    if (distribution_code == "UNSUPPORTED" || status == 405) {
        return ErrorCode::kUnsupported;
    }
    switch (status) {
        case 401:
            return ErrorCode::kAuthentication;
        case 403:
            return ErrorCode::kPermissionDenied;
        case 404:
            return ErrorCode::kNotFound;
        default:
            return ErrorCode::kRegistry;
    }
}

}  // namespace

std::vector<DistributionError> parse_error_body(std::string_view body) {
    std::vector<DistributionError> out;
    if (body.empty() || body.size() > kMaxErrorBody) {
        return out;
    }
    boost::json::error_code ec;
    const boost::json::value value = boost::json::parse(body, ec);
    if (ec || !value.is_object()) {
        return out;
    }
    const auto* errors = value.as_object().if_contains("errors");
    if (errors == nullptr || !errors->is_array()) {
        return out;
    }
    for (const boost::json::value& item : errors->as_array()) {
        if (!item.is_object()) {
            continue;
        }
        DistributionError error;
        if (const auto* code = item.as_object().if_contains("code");
            code != nullptr && code->is_string()) {
            error.code = std::string(code->as_string());
        }
        if (const auto* message = item.as_object().if_contains("message");
            message != nullptr && message->is_string()) {
            error.message = std::string(message->as_string());
        }
        if (!error.code.empty() || !error.message.empty()) {
            out.push_back(std::move(error));
        }
    }
    return out;
}

bool is_temporary_status(int status) {
    return status == 408 || status == 429 ||
           (status >= 500 && status <= 599 && status != 501 && status != 505);
}

std::string_view status_text(int status) {
    switch (status) {
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 409:
            return "Conflict";
        case 413:
            return "Payload Too Large";
        case 416:
            return "Range Not Satisfiable";
        case 429:
            return "Too Many Requests";
        case 500:
            return "Internal Server Error";
        case 501:
            return "Not Implemented";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        default:
            return "";
    }
}

std::string sanitize_for_message(std::string_view text, std::size_t max) {
    constexpr std::string_view kHex = "0123456789abcdef";
    std::string out;
    for (char c : text.substr(0, max)) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte < 0x7f) {
            out += c;
        } else {
            out += "\\x";
            out += kHex[byte >> 4];
            out += kHex[byte & 0xf];
        }
    }
    if (text.size() > max) {
        out += "...";
    }
    return out;
}

ErrorInfo describe_http_error(std::string_view method,
                              std::string_view url,
                              int status,
                              std::string_view body) {
    ErrorInfo info;
    info.http_status = status;
    const std::vector<DistributionError> errors = parse_error_body(body);
    std::string detail;
    if (!errors.empty()) {
        info.distribution_code = sanitize_for_message(errors.front().code, 64);
        detail = info.distribution_code;
        if (!errors.front().message.empty()) {
            detail += (detail.empty() ? "" : ": ") + sanitize_for_message(errors.front().message);
        }
        if (errors.size() > 1) {
            // The others' codes: a registry lists what else it found wrong (distribution adds
            // MANIFEST_INVALID or BLOB_UNKNOWN to a DIGEST_INVALID).
            std::string codes;
            for (std::size_t i = 1; i < errors.size() && i <= 4; ++i) {
                codes += (i == 1 ? "" : ", ") + sanitize_for_message(errors[i].code, 64);
            }
            detail += " (and " + std::to_string(errors.size() - 1) + " more: " + codes +
                      (errors.size() > 5 ? ", ..." : "") + ")";
        }
    } else {
        detail = std::string(status_text(status));
        // A short plain-text answer (a proxy's "upstream connect error") says more than the
        // status alone; HTML pages and long bodies do not.
        const std::string_view text = util::trim(body);
        if (!text.empty() && text.size() <= 200 && text.front() != '<' && text.front() != '{') {
            detail += (detail.empty() ? "" : ": ") + sanitize_for_message(text);
        }
    }
    info.code = code_for(status, info.distribution_code);
    info.temporary = is_temporary_status(status) || info.distribution_code == "TOOMANYREQUESTS";
    info.message = std::string(method) + " " + url_for_message(url) + ": " + std::to_string(status);
    if (!detail.empty()) {
        info.message += " " + detail;
    }
    return info;
}

void throw_error(ErrorInfo info) {
    if (info.code == ErrorCode::kAuthentication) {
        throw AuthError(info.message, info.http_status, std::move(info.distribution_code));
    }
    throw RegistryError(info.code, info.message, info.http_status,
                        std::move(info.distribution_code), info.temporary);
}

std::string redact(std::string message, const std::vector<std::string>& secrets) {
    constexpr std::string_view kRedacted = "<redacted>";
    for (const std::string& secret : secrets) {
        if (secret.empty()) {
            continue;
        }
        for (std::size_t pos = message.find(secret); pos != std::string::npos;
             pos = message.find(secret, pos + kRedacted.size())) {
            message.replace(pos, secret.size(), kRedacted);
        }
    }
    return message;
}

}  // namespace xarch::registry
