// SPDX-License-Identifier: Apache-2.0
// The xarch tool's root command and run(): what `xarch` and `python3 -m xarch` execute. Every
// command lives in its own cmd_*.cpp.
#include "command.hpp"
#include "xarch/version.hpp"

#include <iostream>
#include <string>
#include <vector>

namespace xarch::cli {

std::string version_line() {
    return "xarch v" + std::string(xarch::version()) + " (C ABI " +
           std::to_string(xarch::abi_version()) + ")";
}

Command make_root_command() {
    return Command{
        .name = "xarch",
        .usage = "",
        .summary = "",
        .description = "Build multi-platform container images from a Dockerfile, without a daemon.",
        .flags = {{"version", 'v', false, "", "Print version information and quit", ""}},
        .subcommands = {make_build_command(), make_ls_command(), make_create_command(),
                        make_use_command(), make_rm_command(), make_emulators_command(),
                        make_debug_command(), make_imagetools_command(), make_prune_command(),
                        make_version_command(), make_completion_command(),
                        make_complete_helper_command(), make_man_helper_command()},
        .run =
            [](const ParsedArgs& args, Io& io) {
                if (args.has("version")) {
                    io.out << version_line() << '\n';
                    return static_cast<int>(kExitOk);
                }
                throw UsageError("no command given");
            },
        .max_args = 0,
    };
}

int run(const std::vector<std::string>& args) {
    Io io{std::cout, std::cerr};
    const Command root = make_root_command();
    // As docker does: no command shows the help.
    const int status = args.empty() ? dispatch(root, {"--help"}, io) : dispatch(root, args, io);
    std::cout.flush();
    std::cerr.flush();
    return status;
}

}  // namespace xarch::cli
