// SPDX-License-Identifier: Apache-2.0
// ASCII string helpers shared by the modules. Platform names, flags and binfmt_misc fields are
// ASCII by definition, so locale-dependent <cctype> is deliberately not used.
#pragma once

#include <string>
#include <string_view>

namespace xarch::util {

// `text` with A-Z turned into a-z; other bytes unchanged.
std::string to_lower_ascii(std::string_view text);

// Equal when compared with A-Z folded to a-z.
bool equals_ignore_case(std::string_view a, std::string_view b);

// `text` without leading and trailing blanks (space, \t, \n, \v, \f, \r).
std::string_view trim(std::string_view text);

// The value of the hex digit `c` (0-9, a-f, A-F), or -1 when it is not one.
int hex_value(char c);

}  // namespace xarch::util
