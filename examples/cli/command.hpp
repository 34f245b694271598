// SPDX-License-Identifier: Apache-2.0
// The xarch tool's command tree: each command has its flags, help text and a run function;
// dispatch() walks argv down the tree, handles --help everywhere and maps failures to exit codes
// (0 success, 1 error, 2 usage).
#pragma once

#include "args.hpp"

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace xarch::cli {

struct Io {
    std::ostream& out;
    std::ostream& err;
};

struct Command {
    std::string name;
    std::string usage;    // after the command path, e.g. "[OPTIONS] PLATFORM[,PLATFORM...]"
    std::string summary;  // one line, shown in the parent's command list
    std::string description;
    std::vector<FlagSpec> flags;
    std::vector<Command> subcommands;
    // Runs the command; returns the exit code. Absent for pure groups (they print help).
    std::function<int(const ParsedArgs&, Io&)> run;
    // Least and most positional arguments run() accepts (-1: no limit).
    int min_args = 0;
    int max_args = 0;
    // Left out of help, completion and the man page: helpers the generated scripts call.
    bool hidden = false;
};

enum ExitCode { kExitOk = 0, kExitError = 1, kExitUsage = 2 };

int dispatch(const Command& root, const std::vector<std::string>& args, Io& io);

// A command's flags as its help lists them: its own, then --help.
std::vector<FlagSpec> flags_with_help(const Command& cmd);

// "xarch v0.1.0 (C ABI 0.1)": what `xarch version` and `xarch --version` print.
std::string version_line();

// The whole tool: ARGS without the program name, on std::cout and std::cerr; the exit code.
int run(const std::vector<std::string>& args);

Command make_root_command();
Command make_ls_command();
Command make_create_command();
Command make_use_command();
Command make_rm_command();
Command make_emulators_command();
Command make_debug_command();
Command make_debug_context_files_command();
Command make_debug_plan_command();
Command make_imagetools_command();
Command make_prune_command();
Command make_build_command();
Command make_version_command();
Command make_completion_command();
Command make_complete_helper_command();
Command make_man_helper_command();

}  // namespace xarch::cli
