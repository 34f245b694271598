// SPDX-License-Identifier: Apache-2.0
// The build plan: ARG scoping (the examples of Docker's Dockerfile reference), automatic platform
// and proxy arguments, unused --build-arg warnings, stage resolution (FROM <stage>, COPY --from by
// name, index and image, RUN --mount from=), --target, dropping unreached stages, merging
// platform-independent instances, ONBUILD triggers and the errors BuildKit gives.
#include "dockerfile/plan.hpp"

#include "dockerfile/build_args.hpp"
#include "dockerfile/parser.hpp"
#include "dockerfile/plan_dump.hpp"

#include <xarch/error.hpp>
#include <xarch/platform.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

namespace df = xarch::dockerfile;
using xarch::Platform;

const Platform kAmd64 = Platform::parse("linux/amd64");
const Platform kArm64 = Platform::parse("linux/arm64");
const Platform kArmV7 = Platform::parse("linux/arm/v7");

df::Plan plan_of(const std::string& text,
                 std::vector<Platform> platforms = {kAmd64},
                 std::map<std::string, std::string> build_args = {},
                 std::string target = {}) {
    df::ParseOptions parse_options;
    parse_options.file_name = "Dockerfile";
    df::PlanOptions options;
    options.platforms = std::move(platforms);
    options.build_args = std::move(build_args);
    options.build_platform = kAmd64;
    options.target = std::move(target);
    return df::plan(df::parse(text, parse_options), options);
}

std::string error_of(const std::string& text,
                     std::map<std::string, std::string> build_args = {},
                     std::string target = {}) {
    try {
        plan_of(text, {kAmd64}, std::move(build_args), std::move(target));
    } catch (const xarch::DockerfileError& e) {
        return e.what();
    }
    ADD_FAILURE() << "no error for:\n" << text;
    return {};
}

// The instance each result (one per target platform) is.
const df::StageInstance& result(const df::Plan& plan, std::size_t i = 0) {
    return plan.instances.at(plan.results.at(i).instance);
}

std::string value_of(const df::Variables& vars, const std::string& key) {
    for (const auto& [k, v] : vars) {
        if (k == key) {
            return v;
        }
    }
    return "<unset>";
}

// ---- ARG scoping: the Dockerfile reference's examples ----

TEST(DockerfilePlanArgs, ScopeStartsAtTheArgLine) {
    const df::Plan p =
        plan_of("FROM busybox\nUSER ${username:-some_user}\nARG username\nUSER $username\n",
                {kAmd64}, {{"username", "what_user"}});
    const auto& steps = result(p).steps;
    ASSERT_EQ(steps.size(), 3U);
    EXPECT_EQ(steps[0].command.get<df::UserCommand>()->user, "some_user");
    EXPECT_EQ(steps[2].command.get<df::UserCommand>()->user, "what_user");
    EXPECT_EQ(steps[2].uses, (df::Variables{{"username", "what_user"}}));
}

TEST(DockerfilePlanArgs, ScopeEndsWithTheStage) {
    const df::Plan p = plan_of(
        "FROM busybox AS one\nARG SETTINGS\nRUN ./run/setup $SETTINGS\n\n"
        "FROM one\nRUN true\nFROM busybox\nCOPY --from=one / /\nWORKDIR /$SETTINGS\n",
        {kAmd64}, {{"SETTINGS", "fast"}});
    const df::StageInstance& last = result(p);
    EXPECT_EQ(last.steps.back().command.get<df::WorkdirCommand>()->path, "/");
    EXPECT_EQ(last.steps.back().deferred, std::vector<std::string>{"SETTINGS"});
    const df::StageInstance& first = p.instances.at(0);
    EXPECT_EQ(first.steps.back().uses, (df::Variables{{"SETTINGS", "fast"}}));
}

TEST(DockerfilePlanArgs, EnvOverridesArg) {
    const df::Plan p =
        plan_of("FROM ubuntu\nARG CONT_IMG_VER\nENV CONT_IMG_VER=v1.0.0\nRUN echo $CONT_IMG_VER\n",
                {kAmd64}, {{"CONT_IMG_VER", "v2.0.1"}});
    EXPECT_EQ(result(p).steps.back().uses, (df::Variables{{"CONT_IMG_VER", "v1.0.0"}}));
}

TEST(DockerfilePlanArgs, EnvDefaultFromArg) {
    const std::string text =
        "FROM ubuntu\nARG CONT_IMG_VER\nENV CONT_IMG_VER=${CONT_IMG_VER:-v1.0.0}\n"
        "RUN echo $CONT_IMG_VER\n";
    EXPECT_EQ(value_of(result(plan_of(text)).steps.back().uses, "CONT_IMG_VER"), "v1.0.0");
    EXPECT_EQ(
        value_of(result(plan_of(text, {kAmd64}, {{"CONT_IMG_VER", "v2.0.1"}})).steps.back().uses,
                 "CONT_IMG_VER"),
        "v2.0.1");
}

TEST(DockerfilePlanArgs, GlobalArgsInFromOnly) {
    const df::Plan p = plan_of(
        "ARG CODE_VERSION=latest\nFROM base:${CODE_VERSION}\nCMD /code/run-app\n"
        "FROM extras:${CODE_VERSION}\nRUN echo $CODE_VERSION\n");
    EXPECT_EQ(result(p).base_image, "extras:latest");
    EXPECT_EQ(result(p).from_uses, (df::Variables{{"CODE_VERSION", "latest"}}));
    EXPECT_TRUE(result(p).steps.back().uses.empty());  // not re-declared: not visible
    const df::Plan given = plan_of("ARG CODE_VERSION=latest\nFROM base:${CODE_VERSION}\n", {kAmd64},
                                   {{"CODE_VERSION", "1.2"}});
    EXPECT_EQ(result(given).base_image, "base:1.2");
}

TEST(DockerfilePlanArgs, RedeclaredGlobalArgTakesTheGlobalValue) {
    const df::Plan p = plan_of(
        "ARG VERSION=latest\nFROM busybox:$VERSION\nARG VERSION\nRUN echo $VERSION > "
        "image_version\n");
    EXPECT_EQ(result(p).base_image, "busybox:latest");
    const auto* arg = result(p).steps[0].command.get<df::ArgCommand>();
    EXPECT_EQ(arg->args[0].value, "latest");
    EXPECT_EQ(result(p).steps[1].uses, (df::Variables{{"VERSION", "latest"}}));
}

TEST(DockerfilePlanArgs, PrecedenceBuildArgThenStageDefaultThenGlobal) {
    const std::string text = "ARG A=global\nARG B=global\nFROM x\nARG A=local\nARG B\nRUN $A $B\n";
    const df::Variables uses = result(plan_of(text)).steps.back().uses;
    EXPECT_EQ(value_of(uses, "A"), "local");  // BuildKit: an in-stage default beats the global one
    EXPECT_EQ(value_of(uses, "B"), "global");
    const df::Variables given =
        result(plan_of(text, {kAmd64}, {{"A", "cli"}, {"B", "cli"}})).steps.back().uses;
    EXPECT_EQ(value_of(given, "A"), "cli");
    EXPECT_EQ(value_of(given, "B"), "cli");
}

TEST(DockerfilePlanArgs, DefaultsExpandWithWhatIsSet) {
    const df::Plan p = plan_of(
        "ARG BASE=alpine\nARG TAG=$BASE-$TARGETARCH\nFROM img:$TAG\nENV X=1\nARG Y=$X$UNSET\n"
        "RUN $Y\n");
    EXPECT_EQ(result(p).base_image, "img:alpine-amd64");
    EXPECT_EQ(result(p).steps[1].command.get<df::ArgCommand>()->args[0].value, "1");
    EXPECT_EQ(result(p).steps[1].deferred, std::vector<std::string>{"UNSET"});
}

TEST(DockerfilePlanArgs, AutomaticPlatformArgs) {
    const df::Plan p = plan_of(
        "FROM --platform=$BUILDPLATFORM alpine\nARG TARGETPLATFORM TARGETOS TARGETARCH "
        "TARGETVARIANT BUILDPLATFORM BUILDOS BUILDARCH BUILDVARIANT TARGETSTAGE\nRUN x\n",
        {kArmV7});
    const df::StageInstance& inst = result(p);
    EXPECT_EQ(inst.platform, kAmd64);
    const df::Variables& env = inst.steps.back().env;
    EXPECT_EQ(value_of(env, "TARGETPLATFORM"), "linux/arm/v7");
    EXPECT_EQ(value_of(env, "TARGETOS"), "linux");
    EXPECT_EQ(value_of(env, "TARGETARCH"), "arm");
    EXPECT_EQ(value_of(env, "TARGETVARIANT"), "v7");
    EXPECT_EQ(value_of(env, "BUILDPLATFORM"), "linux/amd64");
    EXPECT_EQ(value_of(env, "BUILDOS"), "linux");
    EXPECT_EQ(value_of(env, "BUILDARCH"), "amd64");
    EXPECT_EQ(value_of(env, "BUILDVARIANT"), "");
    EXPECT_EQ(value_of(env, "TARGETSTAGE"), "default");  // the last stage has no name
    // Not re-declared: not in the stage.
    const df::Plan hidden = plan_of("FROM alpine\nRUN echo $TARGETARCH\n", {kArm64});
    EXPECT_TRUE(result(hidden).steps.back().uses.empty());
    // --build-arg overrides an automatic argument.
    const df::Plan over =
        plan_of("FROM alpine\nARG TARGETARCH\nRUN x\n", {kArm64}, {{"TARGETARCH", "riscv64"}});
    EXPECT_EQ(value_of(result(over).steps.back().env, "TARGETARCH"), "riscv64");
    EXPECT_TRUE(over.warnings.empty());
}

TEST(DockerfilePlanArgs, TargetStageArg) {
    const df::Plan p =
        plan_of("FROM a AS first\nARG TARGETSTAGE\nFROM a AS second\n", {kAmd64}, {}, "first");
    EXPECT_EQ(value_of(result(p).steps.back().env, "TARGETSTAGE"), "first");
}

TEST(DockerfilePlanArgs, ProxyArgsReachRunWithoutArg) {
    const df::Plan p = plan_of("FROM a\nRUN curl x\nENV Y=$HTTP_PROXY\n", {kAmd64},
                               {{"HTTP_PROXY", "http://192.0.2.1:3128"}, {"no_proxy", "local"}});
    const auto& steps = result(p).steps;
    EXPECT_EQ(steps[0].proxy_env,
              (df::Variables{{"HTTP_PROXY", "http://192.0.2.1:3128"}, {"no_proxy", "local"}}));
    // Not an environment variable of the stage, so not expanded into ENV (and not in history).
    EXPECT_EQ(steps[1].command.get<df::EnvCommand>()->env[0].value, "");
    EXPECT_EQ(value_of(steps[1].env, "HTTP_PROXY"), "<unset>");
    EXPECT_TRUE(p.warnings.empty());
}

TEST(DockerfilePlanArgs, UnusedBuildArgWarning) {
    const df::Plan p = plan_of("ARG USED\nFROM a\nARG ALSO\n", {kAmd64},
                               {{"USED", "1"},
                                {"ALSO", "2"},
                                {"NOPE", "3"},
                                {"ZED", "4"},
                                {"BUILDKIT_INLINE_CACHE", "1"}});
    EXPECT_EQ(p.warnings,
              std::vector<std::string>{"[Warning] One or more build-args [NOPE ZED] were not "
                                       "consumed"});
    // An ARG in a stage the target does not reach consumes nothing.
    const df::Plan unreached = plan_of("FROM a AS x\nARG X\nFROM b\n", {kAmd64}, {{"X", "1"}});
    EXPECT_EQ(unreached.warnings,
              std::vector<std::string>{"[Warning] One or more build-args [X] were not consumed"});
}

// ---- platforms and instances ----

TEST(DockerfilePlan, SeedDockerfileOneInstancePerPlatform) {
    const df::Plan p =
        plan_of("FROM busybox:uclibc\nARG TARGETARCH\nRUN echo \"I'm building for $TARGETARCH\"\n",
                Platform::parse_list("amd64,arm,arm64"));
    ASSERT_EQ(p.instances.size(), 3U);
    ASSERT_EQ(p.results.size(), 3U);
    const char* arches[] = {"amd64", "arm", "arm64"};
    for (std::size_t i = 0; i < 3; ++i) {
        const df::StageInstance& inst = result(p, i);
        EXPECT_EQ(inst.platform, p.results[i].platform);
        EXPECT_EQ(inst.base_kind, df::BaseKind::kImage);
        EXPECT_EQ(inst.base_image, "busybox:uclibc");
        EXPECT_TRUE(inst.image_onbuild_pending);
        EXPECT_EQ(inst.steps.back().uses, (df::Variables{{"TARGETARCH", arches[i]}}));
    }
    EXPECT_NE(df::dump(p).find("  3 RUN shell [\"echo \\\"I'm building for $TARGETARCH\\\"\"] "
                               "uses [TARGETARCH=\"arm64\"]\n"),
              std::string::npos)
        << df::dump(p);
}

TEST(DockerfilePlan, BuildPlatformStageIsPlannedOnce) {
    const std::string text =
        "FROM --platform=$BUILDPLATFORM golang AS build\nRUN go generate\n"
        "FROM alpine\nCOPY --from=build /out /out\n";
    const df::Plan p = plan_of(text, {kAmd64, kArm64, kArmV7});
    ASSERT_EQ(p.instances.size(), 4U);
    const df::StageInstance& build = p.instances[0];
    EXPECT_EQ(build.display_name, "build");
    EXPECT_EQ(build.platform, kAmd64);
    EXPECT_EQ(build.target_platforms, (std::vector<Platform>{kAmd64, kArm64, kArmV7}));
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(result(p, i).platform, p.results[i].platform);
        EXPECT_EQ(result(p, i).steps[0].copy_from, (df::StepInput{0, {}}));
    }
    // Once the stage looks at the target platform, it is one instance per platform.
    const df::Plan split = plan_of(
        "FROM --platform=$BUILDPLATFORM golang AS build\nARG TARGETARCH\nRUN GOARCH=$TARGETARCH "
        "go build\nFROM alpine\nCOPY --from=build /out /out\n",
        {kAmd64, kArm64});
    EXPECT_EQ(split.instances.size(), 4U);
}

TEST(DockerfilePlan, FromPlatformConstantAndErrors) {
    const df::Plan p = plan_of("FROM --platform=linux/arm64 alpine\nRUN x\n", {kAmd64, kArmV7});
    ASSERT_EQ(p.instances.size(), 1U);
    EXPECT_EQ(p.instances[0].platform, kArm64);
    EXPECT_EQ(p.results[0].instance, p.results[1].instance);
    EXPECT_EQ(error_of("FROM --platform=$NOPE alpine\n"),
              "Dockerfile:1: empty platform value from expression $NOPE");
    EXPECT_NE(error_of("FROM --platform=a/b/c/d alpine\n")
                  .find("Dockerfile:1: failed to parse platform a/b/c/d"),
              std::string::npos);
    EXPECT_EQ(error_of("ARG IMG\nFROM $IMG\n"),
              "Dockerfile:2: base name ($IMG) should not be blank: set the ARG it uses with "
              "--build-arg or a default");
}

TEST(DockerfilePlan, ScratchGetsTargetPlatformAndPath) {
    const df::Plan p = plan_of("FROM scratch\nENV A=1\n", {kArm64});
    EXPECT_EQ(result(p).base_kind, df::BaseKind::kScratch);
    EXPECT_EQ(result(p).platform, kArm64);
    EXPECT_EQ(
        result(p).steps[0].env,
        (df::Variables{{"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
                       {"A", "1"}}));
}

TEST(DockerfilePlan, VariablesTheBaseImageMaySetAreDeferred) {
    const df::Plan image = plan_of("FROM golang\nENV PATH=/go/bin:$PATH\n");
    const df::PlannedStep& step = result(image).steps[0];
    EXPECT_FALSE(result(image).env_complete);
    EXPECT_EQ(step.deferred, std::vector<std::string>{"PATH"});
    EXPECT_TRUE(step.unset.empty());
    EXPECT_EQ(step.command.get<df::EnvCommand>()->env[0].value, "/go/bin:");
    EXPECT_EQ(step.source.get<df::EnvCommand>()->env[0].value, "/go/bin:$PATH");
    // On scratch the Dockerfile's environment is all there is.
    const df::Plan scratch = plan_of("FROM scratch AS s\nFROM s\nENV X=$NOPE:$PATH\n");
    const df::PlannedStep& known = result(scratch).steps[0];
    EXPECT_TRUE(result(scratch).env_complete);
    EXPECT_EQ(known.unset, std::vector<std::string>{"NOPE"});
    EXPECT_TRUE(known.deferred.empty());
    EXPECT_EQ(known.command.get<df::EnvCommand>()->env[0].value,
              ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
}

TEST(DockerfilePlan, UnreachedStagesAreDropped) {
    const df::Plan p = plan_of(
        "FROM a AS unused\nRUN never\nFROM b AS base\nFROM base AS dev\nRUN dev\n"
        "FROM base AS prod\nRUN prod\n");
    ASSERT_EQ(p.instances.size(), 2U);
    EXPECT_EQ(p.instances[0].display_name, "base");
    EXPECT_EQ(p.instances[1].display_name, "prod");
    EXPECT_EQ(p.instances[1].base_kind, df::BaseKind::kStage);
    EXPECT_EQ(p.instances[1].base_instance, 0U);
}

TEST(DockerfilePlan, TargetSelectsAStage) {
    const std::string text =
        "FROM b AS base\nFROM base AS Dev\nRUN dev\nFROM base AS prod\nRUN prod\n";
    const df::Plan p = plan_of(text, {kAmd64}, {}, "DEV");
    EXPECT_EQ(p.target_stage, "dev");
    ASSERT_EQ(p.instances.size(), 2U);
    EXPECT_EQ(result(p).display_name, "dev");
    EXPECT_EQ(error_of(text, {}, "prd"),
              "Dockerfile: target stage \"prd\" could not be found (did you mean prod?); the "
              "stages are: base, dev, prod");
}

TEST(DockerfilePlan, CopyFromChainsIndexesAndImages) {
    const df::Plan p = plan_of(
        "FROM a AS one\nRUN 1\nFROM a AS two\nCOPY --from=one /x /x\nFROM a\n"
        "COPY --from=TWO /x /x\nCOPY --from=0 /y /y\nCOPY --from=alpine:3 /etc/os-release /\n"
        "RUN --mount=from=one,target=/m --mount=type=cache,target=/c x\n");
    ASSERT_EQ(p.instances.size(), 3U);
    EXPECT_EQ(p.instances[1].steps[0].copy_from, (df::StepInput{0, {}}));
    const auto& steps = result(p).steps;
    EXPECT_EQ(steps[0].copy_from, (df::StepInput{1, {}}));
    EXPECT_EQ(steps[1].copy_from, (df::StepInput{0, {}}));
    EXPECT_EQ(steps[2].copy_from, (df::StepInput{std::nullopt, "alpine:3"}));
    ASSERT_EQ(steps[3].mount_from.size(), 2U);
    EXPECT_EQ(steps[3].mount_from[0], (df::StepInput{0, {}}));
    EXPECT_FALSE(steps[3].mount_from[1].has_value());
}

TEST(DockerfilePlan, StageErrors) {
    EXPECT_EQ(error_of("FROM a\nCOPY --from=5 /x /x\n"),
              "Dockerfile:2: invalid stage index 5: the Dockerfile has 1 stages, from 0");
    EXPECT_EQ(error_of("FROM a\nCOPY --from=$X /x /x\n"),
              "Dockerfile:2: variable expansion is not supported for --from, define a new stage "
              "with FROM using ARG from global scope as a workaround");
    EXPECT_EQ(error_of("FROM a AS x\nCOPY --from=later /x /x\nFROM b AS later\nFROM x\n"),
              "Dockerfile:2: cannot copy from stage \"later\", it needs to be defined before "
              "current stage \"x\"");
    EXPECT_EQ(error_of("FROM a AS x\nCOPY --from=y / /\nFROM a AS y\nCOPY --from=x / /\n"),
              "Dockerfile:4: circular dependency detected on stage: x (stages copy from each "
              "other; break the cycle with a stage both can use)");
    EXPECT_EQ(error_of("FROM a\nWORKDIR ${X:?is required}\n"),
              "Dockerfile:2: failed to process \"${X:?is required}\": X: is required");
}

TEST(DockerfilePlan, FromALaterStageIsAnImage) {
    // BuildKit resolves FROM against earlier stages only: `a` builds on the image "b".
    const df::Plan p = plan_of("FROM b AS a\nFROM a AS b\n");
    ASSERT_EQ(p.instances.size(), 2U);
    EXPECT_EQ(p.instances[0].base_kind, df::BaseKind::kImage);
    EXPECT_EQ(p.instances[0].base_image, "b");
    EXPECT_EQ(p.instances[1].base_instance, 0U);
    ASSERT_EQ(p.warnings.size(), 1U);
    EXPECT_NE(p.warnings[0].find("Dockerfile:1: FROM b: \"b\" is the stage defined on line 2"),
              std::string::npos);
}

TEST(DockerfilePlan, OnbuildTriggersOfAStageBase) {
    const df::Plan p = plan_of(
        "FROM a AS tools\nRUN 1\nFROM a AS base\nONBUILD COPY --from=tools /t /t\n"
        "ONBUILD RUN echo $X\nFROM base\nARG X=1\nRUN mine\n");
    ASSERT_EQ(p.instances.size(), 3U);
    const auto& steps = result(p).steps;
    ASSERT_EQ(steps.size(), 4U);
    EXPECT_TRUE(steps[0].from_onbuild);
    EXPECT_EQ(steps[0].command.start_line, 6);  // placed at the FROM that pulled it in
    EXPECT_EQ(steps[0].copy_from, (df::StepInput{0, {}}));
    EXPECT_TRUE(steps[1].from_onbuild);
    EXPECT_TRUE(steps[1].uses.empty());  // triggers run before the stage's own ARG
    EXPECT_FALSE(steps[2].from_onbuild);
    EXPECT_FALSE(result(p).image_onbuild_pending);
    const auto triggers = df::parse_onbuild_triggers({"RUN a", "COPY . /x"}, "Dockerfile", 3, 3);
    ASSERT_EQ(triggers.size(), 2U);
    EXPECT_EQ(triggers[1].keyword, "COPY");
    EXPECT_EQ(triggers[1].start_line, 3);
}

TEST(DockerfilePlan, ExpansionPerInstruction) {
    const df::Plan p = plan_of(
        "FROM a\nARG V=1\nENV P=/p$V\nWORKDIR $P\nCOPY --chown=$V:$V src$V/ $P/\n"
        "LABEL v=$V\nEXPOSE $V\nUSER u$V\nVOLUME $P\nSTOPSIGNAL SIG$V\n"
        "COPY <<EOF /f\nv=$V 'q'\nEOF\n");
    const auto& s = result(p).steps;
    EXPECT_EQ(s[1].command.get<df::EnvCommand>()->env[0].value, "/p1");
    EXPECT_EQ(s[2].command.get<df::WorkdirCommand>()->path, "/p1");
    const auto* copy = s[3].command.get<df::CopyCommand>();
    EXPECT_EQ(copy->chown, "1:1");
    EXPECT_EQ(copy->source_paths[0], "src1/");
    EXPECT_EQ(copy->dest, "/p1/");
    EXPECT_EQ(s[4].command.get<df::LabelCommand>()->labels[0].value, "1");
    EXPECT_EQ(s[5].command.get<df::ExposeCommand>()->ports[0], "$V");
    EXPECT_EQ(s[6].command.get<df::UserCommand>()->user, "u1");
    EXPECT_EQ(s[7].command.get<df::VolumeCommand>()->volumes[0], "/p1");
    EXPECT_EQ(s[8].command.get<df::StopSignalCommand>()->signal, "SIG1");
    EXPECT_EQ(s[9].command.get<df::CopyCommand>()->source_contents[0].data, "v=1 'q'\n");
}

TEST(DockerfilePlan, MountsAreReadWithExpandedValues) {
    const df::Plan p = plan_of(
        "FROM a\nARG T=/cache\nRUN --mount=type=cache,target=$T,id=c-$TARGETARCH x\n", {kArm64});
    const auto* run = result(p).steps.back().command.get<df::RunCommand>();
    ASSERT_EQ(run->mounts.size(), 1U);
    EXPECT_EQ(run->mounts[0].type, df::MountType::kCache);
    EXPECT_EQ(run->mounts[0].target, "/cache");
    EXPECT_EQ(run->mounts[0].id, "c-");  // TARGETARCH was not declared in the stage
    EXPECT_EQ(error_of("FROM a\nRUN --mount=type=cach,target=/x x\n"),
              "Dockerfile:2: unsupported mount type \"cach\" (did you mean cache?)");
}

TEST(DockerfilePlan, LongStageChainsNeedNoDeepRecursion) {
    std::string text = "FROM a AS s0\n";
    const int kStages = 5000;
    for (int i = 1; i < kStages; ++i) {
        text += "FROM a AS s" + std::to_string(i) + "\nCOPY --from=s" + std::to_string(i - 1) +
                " / /\n";
    }
    const df::Plan p = plan_of(text);
    ASSERT_EQ(p.instances.size(), static_cast<std::size_t>(kStages));
    EXPECT_EQ(result(p).steps[0].copy_from, (df::StepInput{kStages - 2, {}}));
}

TEST(DockerfilePlan, PlanIsAValue) {
    const std::string text = "FROM a\nARG TARGETARCH\nRUN x\n";
    EXPECT_EQ(plan_of(text, {kAmd64, kArm64}), plan_of(text, {kAmd64, kArm64}));
    EXPECT_NE(plan_of(text, {kAmd64}), plan_of(text, {kArm64}));
}

}  // namespace
