// SPDX-License-Identifier: Apache-2.0
// lib/drivers/docker against the test dockerd and the shared test registry: the seed's
// Dockerfile built for linux/arm64 (the engine runs RUN through the host's QEMU), tagged and
// pushed by the engine and read back with xarch::Registry; a failing RUN's message; a build
// cancelled during `RUN sleep 30`; a .dockerignore'd file absent from the image.
// Registers the arm64 and arm emulators when missing and removes what it registered afterwards.
#include "drivers/docker/build.hpp"
#include "drivers/docker/push.hpp"
#include "engine/client.hpp"
#include "engine/endpoint.hpp"
#include "integration/build_support.hpp"
#include "integration/dockerd/dockerd_env.hpp"
#include "integration/registry/registry_env.hpp"
#include "integration/test_support.hpp"

#include <xarch/context.hpp>
#include <xarch/error.hpp>
#include <xarch/image_index.hpp>
#include <xarch/registry.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

namespace xarch::drivers::docker {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Kind = ProgressEvent::Kind;

// Events with what these tests ask of them.
struct Events : test::Events {
    std::vector<std::string> logs() {
        std::lock_guard lock(mutex);
        std::vector<std::string> out;
        for (const ProgressEvent& e : all) {
            if (e.kind == Kind::kLog) {
                out.push_back(e.message);
            }
        }
        return out;
    }
    bool started(std::string_view text) {
        std::lock_guard lock(mutex);
        for (const ProgressEvent& e : all) {
            if (e.kind == Kind::kVertexStarted && e.name.find(text) != std::string::npos) {
                return true;
            }
        }
        return false;
    }
};

class DockerDriverTest : public testing::Test {
protected:
    static void SetUpTestSuite() { test::ForeignEmulators::register_missing(); }
    static void TearDownTestSuite() { test::ForeignEmulators::remove_registered(); }

    void SetUp() override {
        std::string why;
        auto env = test::load_registry_env(&why);
        if (!env) {
            GTEST_SKIP() << why;
        }
        env_ = std::move(*env);
        host_ = test::test_docker_host(XARCH_TEST_DOCKERD_ENV, &why);
        if (host_.empty()) {
            GTEST_SKIP() << why;
        }
        if (!test::ForeignEmulators::runnable()) {
            GTEST_SKIP() << "linux/arm64 needs QEMU in binfmt_misc, which only root can register";
        }
        base_ = env_.plain + "/" + env_.busybox_repo + ":" + env_.busybox_tag;
        root_ = test::fresh_test_dir("docker_driver_test");
        client_.emplace(engine::resolve_endpoint(host_));
    }

    void TearDown() override {
        if (!root_.empty() && !HasFailure()) {
            fs::remove_all(root_);
        }
    }

    BuildContext context_with(std::string_view dockerfile) {
        test::write_file(root_ / "ctx/Dockerfile", dockerfile);
        return BuildContext::from_directory(root_ / "ctx");
    }

    static EngineBuild arm64_build(std::vector<std::string> tags = {}) {
        EngineBuild build;
        build.platform = Platform::parse("linux/arm64");
        build.tags = std::move(tags);
        build.node = "node0";
        build.pull = true;
        return build;
    }

    test::RegistryEnv env_;
    std::string host_;
    std::string base_;
    fs::path root_;
    std::optional<engine::Client> client_;
};

TEST_F(DockerDriverTest, SeedForArm64TaggedAndPushed) {
    // The seed's Dockerfile byte for byte, only the base image's registry host changed.
    BuildContext context = context_with(test::seed_dockerfile(XARCH_SEED_DOCKERFILE, base_));

    Events events;
    // --no-cache: the engine keeps its layer cache across tests; the RUN runs here.
    EngineBuild arm64 = arm64_build();
    arm64.no_cache = true;
    const EngineBuildResult result = build(*client_, context, arm64, events.callback(), {});
    EXPECT_THAT(result.image_id, ::testing::StartsWith("sha256:"));
    EXPECT_NO_THROW(Digest::parse(result.image_id));
    EXPECT_THAT(events.logs(), ::testing::Contains("I'm building for arm64"));
    EXPECT_TRUE(events.started("[linux/arm64 3/3] RUN echo \"I'm building for $TARGETARCH\""))
        << testing::PrintToString(events.step_names(Kind::kVertexStarted));
    EXPECT_TRUE(events.step_names(Kind::kVertexError).empty());

    // Tagged on the engine, pushed by it: the digest it reports is what the registry serves.
    const Reference ref = Reference::parse(env_.plain + "/mytest/docker-driver-seed:arm64");
    tag(*client_, result.image_id, ref);
    Events push_events;
    const PushedManifest pushed =
        push(*client_, ref, CredentialsLookup{}, push_events.callback(), {}, "node0");
    RegistryOptions options;
    options.credentials = nullptr;
    Registry registry(options);
    const Descriptor resolved = registry.resolve(ref);
    EXPECT_EQ(pushed.digest, resolved.digest);
    EXPECT_EQ(pushed.size, resolved.size);
    const RawContent raw = registry.fetch_manifest(ref);
    const Manifest manifest = parse_manifest(raw.bytes);
    const ImageConfig config = parse_config(registry.fetch_blob(ref, manifest.config));
    EXPECT_EQ(config.architecture, "arm64");
    EXPECT_EQ(config.os, "linux");
    // The engine's image id is the config's digest.
    EXPECT_EQ(manifest.config.digest.to_string(), result.image_id);
    EXPECT_THAT(push_events.step_names(Kind::kVertexCompleted),
                ::testing::Contains("pushing " + ref.to_string() + " from node0"));
    test::run("DOCKER_HOST=" + host_ + " docker rmi -f " + ref.to_string());
}

TEST_F(DockerDriverTest, FailingRunNamesTheStep) {
    BuildContext context = context_with("FROM " + base_ + "\nRUN echo out; exit 3\n");
    Events events;
    try {
        build(*client_, context, arm64_build(), events.callback(), {});
        FAIL() << "the build did not fail";
    } catch (const BuildError& e) {
        EXPECT_EQ(e.code(), ErrorCode::kBuildFailed);
        EXPECT_EQ(
            std::string(e.what()),
            "node \"node0\" (linux/arm64): step 2/2 `RUN echo out; exit 3` failed: The command "
            "'/bin/sh -c echo out; exit 3' returned a non-zero code: 3\nout");
        EXPECT_EQ(e.step(), "[linux/arm64 2/2] RUN echo out; exit 3");
        EXPECT_EQ(e.platform(), "linux/arm64");
        EXPECT_EQ(e.exit_code(), 3);
        EXPECT_EQ(e.last_lines(), std::vector<std::string>{"out"});
    }
    EXPECT_EQ(events.step_names(Kind::kVertexError),
              std::vector<std::string>{"[linux/arm64 2/2] RUN echo out; exit 3"});
}

TEST_F(DockerDriverTest, CancelDuringRun) {
    BuildContext context = context_with("FROM " + base_ + "\nRUN echo sleeping; sleep 30\n");
    Events events;
    std::atomic<bool> cancel{false};
    // Cancelled once the step's output shows that the RUN is running.
    const ProgressCallback progress = [&](const ProgressEvent& e) {
        events.callback()(e);
        if (e.kind == Kind::kLog && e.message == "sleeping") {
            cancel = true;
        }
    };
    try {
        build(*client_, context, arm64_build(), progress, [&] { return cancel.load(); });
        FAIL() << "the build was not cancelled";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kCancelled) << e.what();
    }
    EXPECT_TRUE(cancel.load());
    EXPECT_EQ(events.step_names(Kind::kVertexError),
              std::vector<std::string>{"[linux/arm64 2/2] RUN echo sleeping; sleep 30"});
    // The engine stops and removes the step's container once the request is gone (forcerm=1);
    // nothing else runs on it meanwhile (RUN_SERIAL). It may take it a moment.
    std::string containers;
    for (int i = 0; i < 60; ++i) {
        containers = test::run("DOCKER_HOST=" + host_ + " docker ps -aq");
        if (containers.empty()) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    EXPECT_EQ(containers, "");
}

TEST_F(DockerDriverTest, DockerignoredFileIsNotInTheImage) {
    test::write_file(root_ / "ctx/.dockerignore", "secret.txt\n*.log\n");
    test::write_file(root_ / "ctx/secret.txt", "do not send\n");
    test::write_file(root_ / "ctx/debug.log", "do not send\n");
    test::write_file(root_ / "ctx/kept.txt", "kept\n");
    test::write_file(root_ / "elsewhere/Dockerfile",
                     "FROM " + base_ +
                         "\nCOPY . /ctx\n"
                         "RUN test -e /ctx/kept.txt && test ! -e /ctx/secret.txt && "
                         "test ! -e /ctx/debug.log && /bin/ls -a /ctx\n");
    BuildContext context = BuildContext::from_directory(root_ / "ctx");
    // Outside the context: sent under a generated name the engine then drops.
    context.set_dockerfile(root_ / "elsewhere/Dockerfile");
    Events events;
    const EngineBuildResult result = build(*client_, context, arm64_build(), events.callback(), {});
    EXPECT_FALSE(result.image_id.empty());
    const std::vector<std::string> listed = events.logs();
    EXPECT_THAT(listed, ::testing::Contains("kept.txt"));
    for (const std::string& line : listed) {
        EXPECT_THAT(line, ::testing::Not(HasSubstr(".dockerfile.")));
        EXPECT_NE(line, "secret.txt");
    }
}

}  // namespace
}  // namespace xarch::drivers::docker
