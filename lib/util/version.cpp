// SPDX-License-Identifier: Apache-2.0
#include "xarch/version.hpp"

#define XARCH_STRINGIFY_(x) #x
#define XARCH_STRINGIFY(x) XARCH_STRINGIFY_(x)

namespace xarch {

std::string_view version() noexcept {
    return XARCH_STRINGIFY(XARCH_VERSION_MAJOR) "." XARCH_STRINGIFY(
        XARCH_VERSION_MINOR) "." XARCH_STRINGIFY(XARCH_VERSION_PATCH);
}

int abi_version() noexcept {
    return XARCH_ABI_VERSION;
}

}  // namespace xarch
