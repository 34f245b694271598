// SPDX-License-Identifier: Apache-2.0
// The POST /build query for a full option set, and the build args sent: the automatic platform
// args the Dockerfile declares (anywhere), the user's --build-arg winning over them.
#include "drivers/docker/build.hpp"
#include "unit/context/context_test_util.hpp"

#include <xarch/context.hpp>
#include <xarch/error.hpp>
#include <xarch/platform.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

namespace xarch::drivers::docker {
namespace {

using ::testing::ElementsAre;
using xarch_context_test::TempTree;

TEST(BuildQuery, FullOptionSet) {
    TempTree tree;
    tree.file("ctx/Dockerfile", "FROM scratch\n");
    BuildContext context = BuildContext::from_directory(tree / "ctx");
    context.set_target("final stage");
    context.add_label("org.example.title=a b&c");
    context.add_label("z=1");
    EngineBuild build;
    build.platform = Platform::parse("linux/arm/v7");
    build.tags = {"127.0.0.1:5000/mytest/x:arm", "mytest/y:v1"};
    build.no_cache = true;
    build.pull = true;
    build.network = "none";
    const std::map<std::string, std::string> args = {{"TARGETARCH", "arm"}, {"V", "a=b c"}};

    EXPECT_EQ(build_query(context, build, "docker/Dockerfile.dev", args),
              "t=127.0.0.1%3A5000%2Fmytest%2Fx%3Aarm&t=mytest%2Fy%3Av1"
              "&platform=linux%2Farm%2Fv7&dockerfile=docker%2FDockerfile.dev"
              "&target=final%20stage"
              "&buildargs=%7B%22TARGETARCH%22%3A%22arm%22%2C%22V%22%3A%22a%3Db%20c%22%7D"
              "&labels=%7B%22org.example.title%22%3A%22a%20b%26c%22%2C%22z%22%3A%221%22%7D"
              "&nocache=1&pull=1&networkmode=none&rm=1&forcerm=1&version=1");
}

TEST(BuildQuery, DefaultsLeaveOptionsOut) {
    TempTree tree;
    tree.file("ctx/Dockerfile", "FROM scratch\n");
    BuildContext context = BuildContext::from_directory(tree / "ctx");
    EngineBuild build;
    build.platform = Platform::parse("linux/amd64");
    EXPECT_EQ(build_query(context, build, "Dockerfile", {}),
              "platform=linux%2Famd64&dockerfile=Dockerfile&rm=1&forcerm=1&version=1");
}

TEST(BuildArgs, DeclaredNamesAnywhere) {
    EXPECT_THAT(declared_args("ARG BASE=x\nFROM $BASE AS a\nARG TARGETARCH\nRUN true\n"
                              "FROM a\nARG BUILDPLATFORM TARGETARCH V=1\n"),
                ElementsAre("BASE", "TARGETARCH", "BUILDPLATFORM", "V"));
    EXPECT_THROW(declared_args("RUN before from\n"), DockerfileError);
}

TEST(BuildArgs, AutomaticPlatformArgs) {
    const auto args = automatic_platform_args(Platform::parse("arm"), Platform::parse("arm64"));
    EXPECT_EQ(args.at("TARGETPLATFORM"), "linux/arm/v7");
    EXPECT_EQ(args.at("TARGETOS"), "linux");
    EXPECT_EQ(args.at("TARGETARCH"), "arm");
    EXPECT_EQ(args.at("TARGETVARIANT"), "v7");
    EXPECT_EQ(args.at("BUILDPLATFORM"), "linux/arm64");
    EXPECT_EQ(args.at("BUILDOS"), "linux");
    EXPECT_EQ(args.at("BUILDARCH"), "arm64");
    EXPECT_EQ(args.at("BUILDVARIANT"), "");
    EXPECT_EQ(args.size(), 8U);
    // Without the engine's platform, the host's.
    EXPECT_EQ(automatic_platform_args(Platform::parse("arm64"), std::nullopt).at("BUILDPLATFORM"),
              Platform::host().to_string());
}

TEST(BuildArgs, OnlyDeclaredAutomaticArgsAndTheUserWins) {
    TempTree tree;
    const std::string dockerfile =
        "ARG TARGETPLATFORM\nFROM scratch\nARG TARGETARCH\nARG BUILDARCH\nARG MINE\n";
    tree.file("ctx/Dockerfile", dockerfile);
    BuildContext context = BuildContext::from_directory(tree / "ctx");
    context.add_build_arg("TARGETARCH=custom");
    context.add_build_arg("MINE=1");
    context.add_build_arg("UNDECLARED=2");
    EngineBuild build;
    build.platform = Platform::parse("linux/arm64");
    build.build_platform = Platform::parse("linux/amd64");
    const std::map<std::string, std::string> expected = {
        {"TARGETPLATFORM", "linux/arm64"},
        {"TARGETARCH", "custom"},
        {"BUILDARCH", "amd64"},
        {"MINE", "1"},
        {"UNDECLARED", "2"},
    };
    EXPECT_EQ(engine_build_args(context, dockerfile, build), expected);
}

}  // namespace
}  // namespace xarch::drivers::docker
