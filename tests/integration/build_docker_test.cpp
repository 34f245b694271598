// SPDX-License-Identifier: Apache-2.0
// Docker Engine as the independent runtime of what xarch::Builder makes: the amd64 image loaded
// with --load (type=docker) and run, and the arm64 image of a multi-platform push pulled by the
// engine from the test registry and run under QEMU (`uname -m` says aarch64). Registers the
// arm64 emulator when it is missing and removes what it registered afterwards.
#include "integration/dockerd/dockerd_env.hpp"
#include "integration/registry/registry_env.hpp"
#include "integration/test_support.hpp"

#include <xarch/builder.hpp>
#include <xarch/emulators.hpp>
#include <xarch/error.hpp>

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace xarch {
namespace {

namespace fs = std::filesystem;
using test::read_file;
using test::run;

TEST(BuildDocker, EngineRunsTheLoadedImageAndThePulledArm64ImageUnderQemu) {
    std::string why;
    auto env = test::load_registry_env(&why);
    if (!env) {
        GTEST_SKIP() << why;
    }
    const std::string host = test::test_docker_host(XARCH_TEST_DOCKERD_ENV, &why);
    if (host.empty()) {
        GTEST_SKIP() << why;
    }
    const fs::path root =
        fs::path(::testing::TempDir()) / ("build_docker_" + std::to_string(::getpid()));
    fs::remove_all(root);
    fs::create_directories(root / "ctx");
    {
        std::ofstream(root / "ctx/Dockerfile")
            << "FROM " << env->plain << "/" << env->busybox_repo << ":" << env->busybox_tag
            << "\nCOPY hello.txt /hello.txt\nCMD [\"cat\", \"/hello.txt\"]\n";
        std::ofstream(root / "ctx/hello.txt") << "hello from xarch\n";
    }
    BuilderOptions builder_options;
    builder_options.cache_dir = root / "cache";
    Builder builder(builder_options);

    // --load of the amd64 image, then `docker run` of it.
    const std::string loaded = "xarch-build-test/load:v1";
    {
        BuildContext context = BuildContext::from_directory(root / "ctx");
        BuildOptions options;
        options.platforms = {Platform::parse("linux/amd64")};
        options.tags = {loaded};
        options.outputs = {OutputSpec::parse("type=docker")};
        options.docker_host = host;
        builder.build(context, options);
    }
    const std::string docker = "DOCKER_HOST=" + host + " docker ";
    EXPECT_EQ(run(docker + "run --rm --network none " + loaded), "hello from xarch\n");

    // A two-platform push; the engine pulls the arm64 image and runs it under QEMU.
    const std::string pushed = env->plain + "/mytest/build-docker:v1";
    {
        BuildContext context = BuildContext::from_directory(root / "ctx");
        BuildOptions options;
        options.platforms = {Platform::parse("linux/amd64"), Platform::parse("linux/arm64")};
        options.tags = {pushed};
        options.outputs = {OutputSpec::parse("type=registry")};
        builder.build(context, options);
    }
    std::vector<emulators::Change> registered;
    bool arm64_runs = false;
    for (const Platform& p : emulators::runnable_platforms()) {
        arm64_runs = arm64_runs || p.to_string() == "linux/arm64";
    }
    if (!arm64_runs) {
        if (::geteuid() != 0) {
            GTEST_SKIP() << "arm64 needs QEMU in binfmt_misc, which only root can register";
        }
        registered = emulators::install("arm64");
    }
    run(docker + "pull --platform linux/arm64 " + pushed);
    EXPECT_EQ(
        run(docker + "run --rm --network none --platform linux/arm64 " + pushed + " uname -m"),
        "aarch64\n");
    EXPECT_EQ(run(docker + "run --rm --network none --platform linux/arm64 " + pushed),
              "hello from xarch\n");
    for (const emulators::Change& c : registered) {
        if (c.outcome == emulators::Outcome::kInstalled) {
            emulators::uninstall(c.name);
        }
    }
    run(docker + "rmi -f " + loaded + " " + pushed);
    fs::remove_all(root);
}

}  // namespace
}  // namespace xarch
