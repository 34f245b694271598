// SPDX-License-Identifier: Apache-2.0
// RUN's argv, environment, history line and failure message, after BuildKit's dispatchRun.
#include "run_command.hpp"

#include "dockerfile/heredoc.hpp"
#include "util/go_text.hpp"

#include <algorithm>
#include <set>

namespace xarch::solver {

namespace {

constexpr std::string_view kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string join(const std::vector<std::string>& words) {
    std::string out;
    for (const std::string& w : words) {
        if (!out.empty()) {
            out += ' ';
        }
        out += w;
    }
    return out;
}

}  // namespace

RunArgv run_argv(const dockerfile::CommandLine& run, const std::vector<std::string>& shell) {
    RunArgv out;
    std::vector<std::string> args = run.args;
    if (!run.files.empty() && args.size() == 1) {
        if (dockerfile::parse_heredoc(args[0])) {
            const dockerfile::InlineFile& file = run.files.front();
            if (file.data.starts_with("#!")) {
                // A script with its own interpreter: run the file, not its text.
                out.script = true;
                out.script_path = "/dev/pipes/" + file.name;
                out.script_content = file.data;
                args = {out.script_path};
            } else {
                // The text itself goes to the shell, which needs no heredoc support then.
                args = {file.data};
            }
        } else {
            // Heredocs inside a longer command line: the shell reads them back.
            std::string full = args[0];
            for (const dockerfile::InlineFile& file : run.files) {
                full += "\n" + file.data + file.name;
            }
            args = {full};
        }
    }
    if (run.prepend_shell) {
        std::vector<std::string> with_shell =
            shell.empty() ? std::vector<std::string>{"/bin/sh", "-c"} : shell;
        with_shell.push_back(join(args));
        args = std::move(with_shell);
    }
    out.args = std::move(args);
    return out;
}

std::vector<std::string> run_environment(
    const dockerfile::EnvList& env,
    const std::vector<std::pair<std::string, std::string>>& proxy_env) {
    std::vector<std::string> out;
    std::set<std::string> seen;
    const auto add = [&](const std::string& key, std::string_view value) {
        if (seen.insert(key).second) {
            out.push_back(key + "=" + std::string(value));
        }
    };
    for (const std::string& key : env.keys()) {
        if (!seen.contains(key)) {
            add(key, env.get(key).value_or(""));
        }
    }
    for (const auto& [key, value] : proxy_env) {
        add(key, value);
    }
    if (!seen.contains("PATH")) {
        add("PATH", kDefaultPath);
    }
    return out;
}

std::string run_history(const std::vector<std::string>& args,
                        const std::vector<std::string>& stage_args,
                        const dockerfile::EnvList& env) {
    std::vector<std::string> build_env;
    std::set<std::string> seen;
    for (const std::string& key : stage_args) {
        if (seen.insert(key).second) {
            build_env.push_back(key + "=" + std::string(env.get(key).value_or("")));
        }
    }
    std::string out = "RUN ";
    if (!build_env.empty()) {
        out += "|" + std::to_string(build_env.size()) + " " + join(build_env) + " ";
    }
    return out + join(args) + " # buildkit";
}

std::string run_failure_message(const std::vector<std::string>& args, int exit_code) {
    return "process " + util::go::quote(join(args)) +
           " did not complete successfully: exit code: " + std::to_string(exit_code);
}

}  // namespace xarch::solver
