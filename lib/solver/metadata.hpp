// SPDX-License-Identifier: Apache-2.0
// The instructions that change only the image config — ENV, LABEL, USER, EXPOSE, VOLUME,
// ENTRYPOINT, CMD, SHELL, STOPSIGNAL, HEALTHCHECK, ONBUILD, ARG, MAINTAINER — and WORKDIR's
// config part, applied as BuildKit's dispatch applies them, with the history entries it writes
// (`created_by` text byte for byte, `empty_layer`).
#pragma once

#include "dockerfile/instructions.hpp"
#include "dockerfile/shell_lexer.hpp"
#include "image_state.hpp"

#include <string>

namespace xarch::solver {

// What one stage remembers between its instructions.
struct StageFlags {
    bool cmd_set = false;  // a CMD came earlier in this stage (ENTRYPOINT then keeps it)
};

// True for the instructions apply_metadata handles (every one but FROM, RUN, COPY/ADD and
// WORKDIR).
bool is_metadata(const dockerfile::Command& command);

// Applies `command` (expanded) to `state`. `env` is the stage's environment before the step,
// for EXPOSE (whose words BuildKit expands at dispatch). Throws Error(kInvalidArgument) for a bad
// port, an empty VOLUME or an unknown STOPSIGNAL, quoting it.
void apply_metadata(ImageState& state,
                    const dockerfile::Command& command,
                    StageFlags& flags,
                    const dockerfile::ShellLex& lex,
                    const dockerfile::ShellEnv& env);

// WORKDIR's config change: the new working directory (relative paths against the current one),
// cleaned as BuildKit's NormalizeWorkdir does. Returns it.
std::string apply_workdir(ImageState& state, std::string_view path);

// BuildKit's default PATH for Linux images without one.
inline constexpr std::string_view kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Sets NAME=value in a config's Env list, replacing an earlier NAME in place (addEnv).
void set_env(std::vector<std::string>& env, std::string_view key, std::string_view value);

}  // namespace xarch::solver
