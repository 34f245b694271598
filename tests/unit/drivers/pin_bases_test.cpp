// SPDX-License-Identifier: Apache-2.0
// pin_base_images: which FROM lines are written again (the stages the target reaches whose base
// is an image, each for the platform its stage runs on), how (FROM --platform and AS kept, line
// numbers kept), and what is left as written.
#include "drivers/docker/pin_bases.hpp"

#include <xarch/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace xarch::drivers::docker {
namespace {

using ::testing::ElementsAre;

// Records what was asked; answers a digest made of the question, so that each (reference,
// platform) gets its own.
struct Resolver {
    std::vector<std::pair<std::string, std::string>> asked;
    std::vector<std::string> unknown;  // references answered with nullopt

    ResolveBase function() {
        return [this](const std::string& reference,
                      const Platform& platform) -> std::optional<Digest> {
            asked.emplace_back(reference, platform.to_string());
            for (const std::string& u : unknown) {
                if (u == reference) {
                    return std::nullopt;
                }
            }
            return Digest::of(reference + " " + platform.to_string());
        };
    }
};

std::string digest_of(const std::string& reference, const std::string& platform) {
    return Digest::of(reference + " " + platform).to_string();
}

const Platform kArm64 = Platform::parse("linux/arm64");
const Platform kAmd64 = Platform::parse("linux/amd64");

PinnedDockerfile pin(std::string_view text,
                     Resolver& resolver,
                     const std::map<std::string, std::string>& args = {},
                     const std::string& target = {}) {
    return pin_base_images(text, "Dockerfile", args, target, kArm64, kAmd64, resolver.function());
}

TEST(PinBaseImages, OneStageGetsThePlatformsDigest) {
    Resolver resolver;
    const PinnedDockerfile pinned =
        pin("FROM 127.0.0.1:5000/library/busybox:latest\nARG TARGETARCH\nRUN echo hi\n", resolver);
    EXPECT_TRUE(pinned.changed);
    EXPECT_EQ(pinned.text, "FROM 127.0.0.1:5000/library/busybox@" +
                               digest_of("127.0.0.1:5000/library/busybox:latest", "linux/arm64") +
                               "\nARG TARGETARCH\nRUN echo hi\n");
    EXPECT_THAT(resolver.asked, ElementsAre(std::pair<std::string, std::string>(
                                    "127.0.0.1:5000/library/busybox:latest", "linux/arm64")));
    ASSERT_EQ(pinned.notes.size(), 1U);
}

TEST(PinBaseImages, EachStageForItsOwnPlatformWithFlagsAndNamesKept) {
    Resolver resolver;
    const std::string text =
        "ARG GO=golang:1.21\n"
        "FROM --platform=$BUILDPLATFORM ${GO} AS build\n"
        "RUN echo build\n"
        "FROM busybox AS final\n"
        "COPY --from=build /x /x\n";
    const PinnedDockerfile pinned = pin(text, resolver);
    // The build stage runs on the build platform; GO expanded; Docker Hub names made whole.
    EXPECT_EQ(pinned.text,
              "ARG GO=golang:1.21\n"
              "FROM --platform=$BUILDPLATFORM docker.io/library/golang@" +
                  digest_of("golang:1.21", "linux/amd64") +
                  " AS build\n"
                  "RUN echo build\n"
                  "FROM docker.io/library/busybox@" +
                  digest_of("busybox", "linux/arm64") +
                  " AS final\n"
                  "COPY --from=build /x /x\n");
}

TEST(PinBaseImages, StagesScratchAndUnreachedStagesStayAsWritten) {
    Resolver resolver;
    const std::string text =
        "FROM busybox AS base\n"
        "FROM alpine AS unused\n"
        "FROM base AS final\n"
        "FROM scratch AS other\n";
    const PinnedDockerfile pinned = pin(text, resolver, {}, "final");
    EXPECT_EQ(pinned.text, "FROM docker.io/library/busybox@" + digest_of("busybox", "linux/arm64") +
                               " AS base\n"
                               "FROM alpine AS unused\n"
                               "FROM base AS final\n"
                               "FROM scratch AS other\n");
    EXPECT_THAT(resolver.asked,
                ElementsAre(std::pair<std::string, std::string>("busybox", "linux/arm64")));
}

TEST(PinBaseImages, ContinuedFromKeepsTheLineNumbers) {
    Resolver resolver;
    const std::string text = "FROM \\\n  busybox:1.36 \\\n  AS base\nRUN exit 3\n";
    const PinnedDockerfile pinned = pin(text, resolver);
    EXPECT_EQ(pinned.text, "FROM docker.io/library/busybox@" +
                               digest_of("busybox:1.36", "linux/arm64") +
                               " AS base\n\n\nRUN exit 3\n");
}

TEST(PinBaseImages, BuildArgsChooseTheBase) {
    Resolver resolver;
    const PinnedDockerfile pinned =
        pin("ARG BASE=busybox\nFROM $BASE\n", resolver, {{"BASE", "alpine:3"}});
    EXPECT_EQ(pinned.text, "ARG BASE=busybox\nFROM docker.io/library/alpine@" +
                               digest_of("alpine:3", "linux/arm64") + "\n");
}

TEST(PinBaseImages, ABaseTheRegistryDoesNotKnowIsLeftWithANote) {
    Resolver resolver;
    resolver.unknown = {"local-only:dev"};
    const std::string text = "FROM local-only:dev\nRUN true\n";
    const PinnedDockerfile pinned = pin(text, resolver);
    EXPECT_FALSE(pinned.changed);
    EXPECT_EQ(pinned.text, text);
    ASSERT_EQ(pinned.notes.size(), 1U);
    EXPECT_THAT(pinned.notes.front(), ::testing::HasSubstr("local-only:dev left as written"));
}

TEST(PinBaseImages, AnUnknownTargetIsTheParsersError) {
    Resolver resolver;
    EXPECT_THROW(pin("FROM busybox\n", resolver, {}, "nope"), DockerfileError);
}

}  // namespace
}  // namespace xarch::drivers::docker
