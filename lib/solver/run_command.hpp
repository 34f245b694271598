// SPDX-License-Identifier: Apache-2.0
// What a Dockerfile RUN executes and how it is recorded, as BuildKit's dispatchRun derives them:
// the argv (shell form through the stage's SHELL, heredocs), the process environment, the
// history line with the build args in scope, and the error of a failed process.
#pragma once

#include "dockerfile/instructions.hpp"
#include "dockerfile/shell_lexer.hpp"

#include <string>
#include <vector>

namespace xarch::solver {

// The argv of `run` in a stage whose SHELL is `shell` (empty: /bin/sh -c). A single heredoc
// whose text starts with "#!" is a script: its argv names `script_path`, where the caller mounts
// the text as an executable file (BuildKit uses /dev/pipes/<name>).
struct RunArgv {
    std::vector<std::string> args;
    bool script = false;         // args run a heredoc script (see script_path)
    std::string script_path;     // where the script must be, inside the sandbox
    std::string script_content;  // its text
};
RunArgv run_argv(const dockerfile::CommandLine& run, const std::vector<std::string>& shell);

// "K=V" entries for the process: the stage's environment as the step sees it (base image, ENV,
// ARG values), then the proxy build args, then PATH when nothing set it (BuildKit's default).
std::vector<std::string> run_environment(
    const dockerfile::EnvList& env,
    const std::vector<std::pair<std::string, std::string>>& proxy_env);

// The history line: "RUN [|N K=V ...] ARGV... # buildkit" where K are the stage's ARGs in scope
// (values from the environment, else as declared), as BuildKit's runCommandString writes it.
std::string run_history(const std::vector<std::string>& args,
                        const std::vector<std::string>& stage_args,
                        const dockerfile::EnvList& env);

// BuildKit's error for a process that failed: `process "ARGV" did not complete successfully:
// exit code: N`, ARGV joined by spaces and quoted as Go's %q does.
std::string run_failure_message(const std::vector<std::string>& args, int exit_code);

}  // namespace xarch::solver
