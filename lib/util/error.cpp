// SPDX-License-Identifier: Apache-2.0
#include <xarch/error.hpp>

namespace xarch {

const char* to_string(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::kInvalidArgument:
            return "invalid_argument";
        case ErrorCode::kNotFound:
            return "not_found";
        case ErrorCode::kPermissionDenied:
            return "permission_denied";
        case ErrorCode::kUnsupported:
            return "unsupported";
        case ErrorCode::kIo:
            return "io";
        case ErrorCode::kAlreadyExists:
            return "already_exists";
        case ErrorCode::kCancelled:
            return "cancelled";
        case ErrorCode::kInternal:
            return "internal";
        case ErrorCode::kAuthentication:
            return "authentication";
        case ErrorCode::kDigestMismatch:
            return "digest_mismatch";
        case ErrorCode::kRegistry:
            return "registry";
        case ErrorCode::kNetwork:
            return "network";
        case ErrorCode::kBuildFailed:
            return "build_failed";
    }
    return "unknown";
}

}  // namespace xarch
