// SPDX-License-Identifier: Apache-2.0
// RUN's argv, process environment, history line and failure message, as BuildKit's dispatchRun
// and runCommandString derive them.
#include "solver/run_command.hpp"

#include <gtest/gtest.h>

namespace xarch::solver {
namespace {

using Args = std::vector<std::string>;

dockerfile::CommandLine shell_form(std::string text) {
    dockerfile::CommandLine c;
    c.args = {std::move(text)};
    c.prepend_shell = true;
    return c;
}

TEST(RunArgv, ShellFormGoesThroughBinSh) {
    EXPECT_EQ(run_argv(shell_form("echo hi"), {}).args, (Args{"/bin/sh", "-c", "echo hi"}));
}

TEST(RunArgv, ShellFormUsesTheStagesShell) {
    EXPECT_EQ(run_argv(shell_form("echo hi"), {"/bin/bash", "-eo", "pipefail", "-c"}).args,
              (Args{"/bin/bash", "-eo", "pipefail", "-c", "echo hi"}));
}

TEST(RunArgv, ExecFormRunsAsWritten) {
    dockerfile::CommandLine c;
    c.args = {"/bin/echo", "a b"};
    EXPECT_EQ(run_argv(c, {"/bin/bash", "-c"}).args, (Args{"/bin/echo", "a b"}));
}

TEST(RunArgv, SingleHeredocRunsItsTextInTheShell) {
    dockerfile::CommandLine c = shell_form("<<EOF");
    c.files = {{"EOF", "echo one\necho two\n", false}};
    EXPECT_EQ(run_argv(c, {}).args, (Args{"/bin/sh", "-c", "echo one\necho two\n"}));
}

TEST(RunArgv, HeredocWithShebangIsAScriptFile) {
    dockerfile::CommandLine c = shell_form("<<EOF");
    c.files = {{"EOF", "#!/bin/busybox sh\necho hi\n", false}};
    const RunArgv argv = run_argv(c, {});
    EXPECT_TRUE(argv.script);
    EXPECT_EQ(argv.script_path, "/dev/pipes/EOF");
    EXPECT_EQ(argv.script_content, "#!/bin/busybox sh\necho hi\n");
    EXPECT_EQ(argv.args, (Args{"/bin/sh", "-c", "/dev/pipes/EOF"}));
}

TEST(RunArgv, HeredocsInALongerLineAreHandedBackToTheShell) {
    dockerfile::CommandLine c = shell_form("cat <<A > /a");
    c.files = {{"A", "x\n", false}};
    EXPECT_EQ(run_argv(c, {}).args, (Args{"/bin/sh", "-c", "cat <<A > /a\nx\nA"}));
}

TEST(RunEnvironment, StageVariablesThenProxiesThenDefaultPath) {
    dockerfile::EnvList env({"A=1", "B=2", "A=3"});
    const auto out = run_environment(env, {{"HTTP_PROXY", "http://192.0.2.1:3128"}});
    EXPECT_EQ(out, (Args{"A=3", "B=2", "HTTP_PROXY=http://192.0.2.1:3128",
                         "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}));
}

TEST(RunEnvironment, KeepsThePathTheStageSet) {
    dockerfile::EnvList env({"PATH=/opt/bin"});
    EXPECT_EQ(run_environment(env, {}), (Args{"PATH=/opt/bin"}));
}

TEST(RunHistory, WithoutArgsIsTheArgvAndTheBuildkitMark) {
    dockerfile::EnvList env({"PATH=/bin"});
    EXPECT_EQ(run_history({"/bin/sh", "-c", "echo hi"}, {}, env),
              "RUN /bin/sh -c echo hi # buildkit");
}

TEST(RunHistory, ArgsInScopeArePrefixedWithTheirCount) {
    // The seed: ARG TARGETARCH, then RUN; an ARG without value shows empty.
    dockerfile::EnvList env({"PATH=/bin", "TARGETARCH=arm64"});
    EXPECT_EQ(run_history({"/bin/sh", "-c", "echo \"I'm building for $TARGETARCH\""},
                          {"TARGETARCH", "EMPTY", "TARGETARCH"}, env),
              "RUN |2 TARGETARCH=arm64 EMPTY= /bin/sh -c echo \"I'm building for $TARGETARCH\" "
              "# buildkit");
}

TEST(RunFailure, QuotesTheCommandAsGoDoes) {
    EXPECT_EQ(run_failure_message({"/bin/sh", "-c", "echo \"out\"; exit 3"}, 3),
              "process \"/bin/sh -c echo \\\"out\\\"; exit 3\" did not complete successfully: "
              "exit code: 3");
}

}  // namespace
}  // namespace xarch::solver
