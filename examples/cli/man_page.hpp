// SPDX-License-Identifier: Apache-2.0
// The xarch(1) man page, generated in roff from the tool's command tree so that it says what the
// help says.
#pragma once

#include "command.hpp"

#include <string>

namespace xarch::cli {

// xarch.1 for man(7): NAME, SYNOPSIS, DESCRIPTION, OPTIONS, COMMANDS (each visible command's
// usage, description and flags), EXIT STATUS, ENVIRONMENT, FILES, SEE ALSO.
std::string man_page(const Command& root);

}  // namespace xarch::cli
