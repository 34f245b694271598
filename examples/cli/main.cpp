// SPDX-License-Identifier: Apache-2.0
// xarch: build multi-platform container images, speaking docker buildx's flags. A thin main over
// the C++ API; every command lives in its own cmd_*.cpp.
#include "command.hpp"
#include "xarch/version.hpp"

#include <iostream>
#include <string>
#include <vector>

namespace xarch::cli {

Command make_root_command() {
    return Command{
        .name = "xarch",
        .usage = "",
        .summary = "",
        .description = "Build multi-platform container images from a Dockerfile, without a daemon.",
        .flags = {{"version", 'v', false, "", "Print version information and quit", ""}},
        .subcommands = {make_build_command(), make_ls_command(), make_create_command(),
                        make_use_command(), make_rm_command(), make_emulators_command(),
                        make_debug_command(), make_imagetools_command(), make_prune_command()},
        .run =
            [](const ParsedArgs& args, Io& io) {
                if (args.has("version")) {
                    io.out << "xarch v" << xarch::version() << " (C ABI " << xarch::abi_version()
                           << ")\n";
                    return static_cast<int>(kExitOk);
                }
                throw UsageError("no command given");
            },
        .max_args = 0,
    };
}

}  // namespace xarch::cli

int main(int argc, char** argv) {
    using namespace xarch::cli;
    std::vector<std::string> args(argv + 1, argv + argc);
    Io io{std::cout, std::cerr};
    const Command root = make_root_command();
    if (args.empty()) {
        // As docker does: no command shows the help.
        return dispatch(root, {"--help"}, io);
    }
    return dispatch(root, args, io);
}
