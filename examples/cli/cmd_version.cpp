// SPDX-License-Identifier: Apache-2.0
// `xarch version`: the tool's version, as `docker buildx version` shows it (the same line as
// `xarch --version`).
#include "command.hpp"

#include <ostream>

namespace xarch::cli {

Command make_version_command() {
    return Command{
        .name = "version",
        .usage = "",
        .summary = "Show xarch version information",
        .description = "Show the version of xarch and of the C ABI it provides.",
        .flags = {},
        .subcommands = {},
        .run =
            [](const ParsedArgs&, Io& io) {
                io.out << version_line() << '\n';
                return static_cast<int>(kExitOk);
            },
        .min_args = 0,
        .max_args = 0,
    };
}

}  // namespace xarch::cli
