// SPDX-License-Identifier: Apache-2.0
#include "xarch/error.hpp"

namespace xarch {

const char* to_string(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::kInvalidArgument:
            return "invalid argument";
        case ErrorCode::kNotFound:
            return "not found";
        case ErrorCode::kPermissionDenied:
            return "permission denied";
        case ErrorCode::kUnsupported:
            return "unsupported";
        case ErrorCode::kIo:
            return "i/o error";
        case ErrorCode::kAlreadyExists:
            return "already exists";
        case ErrorCode::kCancelled:
            return "cancelled";
        case ErrorCode::kInternal:
            return "internal error";
    }
    return "unknown error";
}

}  // namespace xarch
