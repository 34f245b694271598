// SPDX-License-Identifier: Apache-2.0
// Library version (semantic) and the C ABI version (the SONAME major).
#pragma once

#include <string_view>

#define XARCH_VERSION_MAJOR 0
#define XARCH_VERSION_MINOR 1
#define XARCH_VERSION_PATCH 0

namespace xarch {

// "0.1.0"
std::string_view version() noexcept;
// The C ABI generation, the N in libxarch.so.N.
int abi_version() noexcept;

}  // namespace xarch
