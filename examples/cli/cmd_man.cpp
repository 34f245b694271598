// SPDX-License-Identifier: Apache-2.0
// `xarch __man` (hidden): prints the xarch(1) man page; the build runs it to make xarch.1.
#include "command.hpp"
#include "man_page.hpp"

#include <ostream>

namespace xarch::cli {

Command make_man_helper_command() {
    return Command{
        .name = "__man",
        .usage = "",
        .summary = "Print the man page (used by the build)",
        .description = "Print the xarch(1) man page, in roff, on stdout.",
        .flags = {},
        .subcommands = {},
        .run =
            [](const ParsedArgs&, Io& io) {
                io.out << man_page(make_root_command());
                return static_cast<int>(kExitOk);
            },
        .min_args = 0,
        .max_args = 0,
        .hidden = true,
    };
}

}  // namespace xarch::cli
