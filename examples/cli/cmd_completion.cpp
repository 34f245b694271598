// SPDX-License-Identifier: Apache-2.0
// `xarch completion bash`: prints the shell completion script; `xarch __complete builders`
// (hidden): the builder names the script offers for --builder, `use` and `rm`.
#include "command.hpp"
#include "completion_bash.hpp"
#include "xarch/builders.hpp"

#include <ostream>

namespace xarch::cli {

Command make_completion_command() {
    return Command{
        .name = "completion",
        .usage = "SHELL",
        .summary = "Generate the autocompletion script for the specified shell",
        .description =
            "Print the completion script for SHELL (bash is the one supported) on stdout.\n\n"
            "Load it in the current shell:\n"
            "  source <(xarch completion bash)\n"
            "Load it in every new shell (packages install it there already):\n"
            "  xarch completion bash > ~/.local/share/bash-completion/completions/xarch",
        .flags = {},
        .subcommands = {},
        .run =
            [](const ParsedArgs& args, Io& io) {
                const std::string& shell = args.positional[0];
                if (shell != "bash") {
                    throw UsageError("unsupported shell \"" + shell + "\": use bash");
                }
                io.out << bash_completion(make_root_command());
                return static_cast<int>(kExitOk);
            },
        .min_args = 1,
        .max_args = 1,
    };
}

Command make_complete_helper_command() {
    return Command{
        .name = "__complete",
        .usage = "builders",
        .summary = "Print completion candidates (used by the completion script)",
        .description = "Print the names of the builders, one a line, for shell completion.",
        .flags = {},
        .subcommands = {},
        .run =
            [](const ParsedArgs& args, Io& io) {
                if (args.positional[0] != "builders") {
                    throw UsageError("unknown completion list \"" + args.positional[0] +
                                     "\": use builders");
                }
                for (const BuilderSpec& builder : BuilderStore().list()) {
                    io.out << builder.name << '\n';
                }
                return static_cast<int>(kExitOk);
            },
        .min_args = 1,
        .max_args = 1,
        .hidden = true,
    };
}

}  // namespace xarch::cli
