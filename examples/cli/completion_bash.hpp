// SPDX-License-Identifier: Apache-2.0
// The bash completion script for the xarch tool, generated from its command tree so that it
// never lists a command or flag the tool does not have.
#pragma once

#include "command.hpp"

#include <string>

namespace xarch::cli {

// A script that defines _xarch and registers it with `complete -F _xarch xarch`. It completes
// commands, subcommands and flags (long and short) of every visible command; the values of
// --progress, --platform, --network, --allow; files for -f and PATH; builder names (for
// --builder, `use` and `rm`) through the hidden `xarch __complete builders`.
std::string bash_completion(const Command& root);

}  // namespace xarch::cli
