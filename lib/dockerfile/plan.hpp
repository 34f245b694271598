// SPDX-License-Identifier: Apache-2.0
// The build plan: what BuildKit's dockerfile2llb decides before it builds anything, for every
// target platform at once. For each --platform it resolves the global ARGs (with the automatic
// platform arguments and --build-arg), the stages' bases and FROM --platform, the --target, the
// stages the target reaches (through FROM <stage>, COPY --from and RUN --mount from=), ONBUILD
// triggers of stage bases, and every instruction's words expanded with the environment BuildKit
// would use. Stage instances that come out identical for several platforms (a stage built
// FROM --platform=$BUILDPLATFORM that does not look at TARGET*) are planned once.
//
// The result is a plain value: the solver's input.
#pragma once

#include "instructions.hpp"
#include "parser.hpp"

#include <xarch/platform.hpp>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace xarch::dockerfile {

struct PlanOptions {
    std::map<std::string, std::string> build_args;  // --build-arg KEY=VALUE
    std::vector<Platform> platforms;         // target platforms; empty: the build platform alone
    std::optional<Platform> build_platform;  // the platform builds run on; default: the host
    std::string target;                      // --target stage name; "" is the last stage
};

using Variables = std::vector<std::pair<std::string, std::string>>;

// What a COPY --from or RUN --mount from= reads: an earlier stage instance or an image.
struct StepInput {
    std::optional<std::size_t> instance;  // index into Plan::instances
    std::string image;                    // the image reference, when not a stage
    friend bool operator==(const StepInput&, const StepInput&) = default;
};

// One instruction of a stage instance with its resolved values.
struct PlannedStep {
    Command command;  // words expanded as BuildKit's dispatch expands them (ARG: final values)
    Command source;   // the same instruction as written, for re-expansion (see `deferred`)
    // The variables its expansion referenced that were set, with their values; for RUN in shell
    // form, the ones its command text names (the shell expands them at run time).
    Variables uses;
    std::vector<std::string> unset;  // referenced variables that were not set
    // In a stage rooted in an image: referenced variables the Dockerfile did not set, which the
    // image's config may set (PATH in `ENV PATH=/x:$PATH`). `command` has them expanded as
    // unset; once the config is known, the solver expands `source` again with the image's
    // environment under the stage's when any of them is set there.
    std::vector<std::string> deferred;
    // The environment the step sees: ENV and ARG values in order, after the step, not counting
    // the base image's config (known only once it is fetched).
    Variables env;
    Variables proxy_env;                 // RUN: the proxy --build-args (not in the image history)
    std::optional<StepInput> copy_from;  // COPY --from
    std::vector<std::optional<StepInput>> mount_from;  // RUN: one per mount; nullopt: none given
    bool from_onbuild = false;                         // a trigger of the base stage's ONBUILD
    friend bool operator==(const PlannedStep&, const PlannedStep&) = default;
};

enum class BaseKind { kImage, kStage, kScratch };

// One stage built for one platform (shared by the target platforms listed).
struct StageInstance {
    std::size_t index = 0;                   // in Plan::instances
    int stage_index = 0;                     // the stage's position in the Dockerfile, from 0
    std::string stage_name;                  // lower case; "" when the FROM has no AS
    std::string display_name;                // stage_name, or "stage-N"
    Platform platform;                       // the platform the stage's steps run for
    std::vector<Platform> target_platforms;  // the --platform builds that use this instance
    BaseKind base_kind = BaseKind::kImage;
    std::string base_image;                    // kImage: the expanded reference
    std::optional<std::size_t> base_instance;  // kStage
    Variables from_uses;  // the global ARGs the FROM line (and its --platform) referenced
    // The environment is all the Dockerfile's (scratch, or stages down to scratch); false when
    // an image's config contributes to it (see PlannedStep::deferred).
    bool env_complete = false;
    // kImage: the base image's own ONBUILD triggers must run before `steps`; they are in its
    // config, known only after it is fetched (parse them with parse_onbuild_triggers()).
    bool image_onbuild_pending = false;
    std::vector<PlannedStep> steps;  // a stage base's ONBUILD triggers first
    int start_line = 0;              // of the FROM
    int end_line = 0;
    friend bool operator==(const StageInstance&, const StageInstance&) = default;
};

struct PlatformResult {
    Platform platform;
    std::size_t instance = 0;  // the target stage's instance for this platform
    friend bool operator==(const PlatformResult&, const PlatformResult&) = default;
};

struct Plan {
    std::string file_name;
    std::string target_stage;  // the target's display name
    Platform build_platform;
    std::vector<StageInstance> instances;  // each after the instances it depends on
    std::vector<PlatformResult> results;   // one per target platform, in the order given
    std::vector<std::string> warnings;     // unused --build-args, FROM of a later stage
    friend bool operator==(const Plan&, const Plan&) = default;
};

// Plans a parsed Dockerfile. Throws DockerfileError (file:line) for anything BuildKit rejects
// before building: a bad instruction or flag, an unknown --target (listing the stages), a blank
// base name, a bad FROM --platform, a bad COPY --from index, variables in COPY --from, a stage
// used before it is defined, a circular dependency, a word that does not expand.
Plan plan(const ParseResult& dockerfile, const PlanOptions& options = {});

// initOnBuildTriggers: the ONBUILD expressions of a base image's config as commands, each at
// the place of the FROM that pulled them in. Throws DockerfileError as parse_command does.
std::vector<Command> parse_onbuild_triggers(const std::vector<std::string>& expressions,
                                            const std::string& file_name,
                                            int start_line,
                                            int end_line);

}  // namespace xarch::dockerfile
