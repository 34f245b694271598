// SPDX-License-Identifier: Apache-2.0
// Slash-separated path helpers that behave as Go's path package (and filepath on Unix).
#pragma once

#include <string>
#include <string_view>

namespace xarch::util {

// path.Clean / filepath.Clean: the shortest equivalent path ("" → ".", "a//b/../c/" → "a/c",
// "/.." → "/").
std::string clean_path(std::string_view path);

}  // namespace xarch::util
