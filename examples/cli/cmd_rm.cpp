// SPDX-License-Identifier: Apache-2.0
// `xarch rm [NAME...]`: removes builders (the current one when no name is given), as
// `docker buildx rm` does; the current builder removed makes "default" current.
#include "command.hpp"
#include "xarch/builders.hpp"

#include <ostream>
#include <string>
#include <vector>

namespace xarch::cli {

namespace {

int run_rm(const ParsedArgs& args, Io& io) {
    BuilderStore store;
    std::vector<std::string> names = args.positional;
    if (names.empty()) {
        names.push_back(store.current_name());
    }
    for (const std::string& name : names) {
        store.remove(name);
        io.err << name << " removed\n";
    }
    return kExitOk;
}

}  // namespace

Command make_rm_command() {
    return Command{
        .name = "rm",
        .usage = "[NAME...]",
        .summary = "Remove one or more builder instances",
        .description =
            "Remove builders, by name or the current one. Images and build cache stay.\n"
            "\"default\" cannot be removed.",
        .flags = {},
        .subcommands = {},
        .run = run_rm,
        .min_args = 0,
        .max_args = -1,
    };
}

}  // namespace xarch::cli
