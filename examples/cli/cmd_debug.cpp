// SPDX-License-Identifier: Apache-2.0
// `xarch debug ...`: views of xarch's internals for people comparing it with buildx.
#include "command.hpp"
#include "xarch/platform.hpp"

#include <ostream>

namespace xarch::cli {

namespace {

int run_platform(const ParsedArgs& args, Io& io) {
    const bool unnormalized = args.has("unnormalized");
    for (const std::string& arg : args.positional) {
        if (!unnormalized) {
            for (const Platform& p : Platform::parse_list(arg)) {
                io.out << p.to_string() << '\n';
            }
            continue;
        }
        // containerd's Parse on each element, as is: no normalization, no de-duplication.
        std::size_t start = 0;
        while (true) {
            const std::size_t comma = arg.find(',', start);
            const std::string element = arg.substr(start, comma - start);
            io.out << Platform::parse_unnormalized(element).to_string_all() << '\n';
            if (comma == std::string::npos) {
                break;
            }
            start = comma + 1;
        }
    }
    return kExitOk;
}

}  // namespace

Command make_debug_command() {
    Command platform{
        .name = "platform",
        .usage = "[OPTIONS] PLATFORM[,PLATFORM...]...",
        .summary = "Print platforms as xarch parses them",
        .description =
            "Parse platforms as --platform does (\"local\" is this host; each value normalized,\n"
            "duplicates dropped) and print one a line.\n\n"
            "Example:\n  xarch debug platform amd64,arm,arm64",
        .flags = {{"unnormalized", '\0', false, "",
                   "Print containerd's parse without normalizing (arm stays linux/arm)", ""}},
        .subcommands = {},
        .run = run_platform,
        .min_args = 1,
        .max_args = -1,
    };
    return Command{
        .name = "debug",
        .usage = "",
        .summary = "Inspect how xarch reads its inputs",
        .description = "Inspect how xarch reads its inputs.",
        .flags = {},
        .subcommands = {platform},
        .run = nullptr,
    };
}

}  // namespace xarch::cli
