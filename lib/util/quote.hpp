// SPDX-License-Identifier: Apache-2.0
// Quoting the caller's input in error messages, the same way in every module.
#pragma once

#include <string>
#include <string_view>

namespace xarch::util {

// `text` in double quotes for an error message: control, non-ASCII and NUL bytes escaped as \xNN,
// and cut to about 80 characters with its length appended, so that hostile input stays readable.
std::string quote(std::string_view text);

}  // namespace xarch::util
