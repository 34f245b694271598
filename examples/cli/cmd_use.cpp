// SPDX-License-Identifier: Apache-2.0
// `xarch use NAME`: makes a builder the current one (what builds use without --builder), as
// `docker buildx use` does.
#include "command.hpp"
#include "xarch/builders.hpp"

namespace xarch::cli {

Command make_use_command() {
    return Command{
        .name = "use",
        .usage = "NAME",
        .summary = "Set the current builder instance",
        .description =
            "Set the current builder: builds without --builder run on it.\n"
            "\"default\" is this host's embedded builder.",
        .flags = {},
        .subcommands = {},
        .run =
            [](const ParsedArgs& args, Io&) {
                BuilderStore().use(args.positional[0]);
                return static_cast<int>(kExitOk);
            },
        .min_args = 1,
        .max_args = 1,
    };
}

}  // namespace xarch::cli
