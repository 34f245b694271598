// SPDX-License-Identifier: Apache-2.0
// Builders with Docker Engine nodes (issue 7's real checks): the seed's Dockerfile for amd64, arm
// and arm64 through one engine and through two (amd64 on the test dockerd, arm and arm64 on a
// second one this suite starts), each pushed as one index read by skopeo and run per platform by
// the engine; an engine and the embedded driver in one builder; one platform pushed under its
// tags and --load; an engine killed mid-build (its node and platform named, no tag written), a
// missing socket, outputs an engine cannot give.
#include "integration/build_support.hpp"
#include "integration/dockerd/dockerd_env.hpp"
#include "integration/registry/registry_env.hpp"
#include "integration/test_support.hpp"

#include <xarch/builder.hpp>
#include <xarch/builders.hpp>
#include <xarch/error.hpp>
#include <xarch/image_index.hpp>
#include <xarch/registry.hpp>

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace xarch {
namespace {

namespace fs = std::filesystem;
using test::contains;
using test::Events;
using test::kSeedPlatforms;
using test::quote;
using test::read_file;
using test::run;
using test::write_file;

// A dockerd of this suite's own (tests/integration/dockerd/start.sh), stopped by its PID.
class OwnEngine {
public:
    explicit OwnEngine(fs::path state) : state_(std::move(state)) {
        run("sh " + quote(std::string(XARCH_TEST_DOCKERD_TOOLS) + "/start.sh") + " " +
            quote(state_.string()));
        host_ = test::test_docker_host((state_ / "env").string(), &why_);
        if (!host_.empty()) {
            pid_ = std::stoi(read_file(state_ / "started.pid"));
        }
    }
    ~OwnEngine() { stop(); }
    OwnEngine(const OwnEngine&) = delete;
    OwnEngine& operator=(const OwnEngine&) = delete;

    void stop() {
        if (!state_.empty()) {
            run("sh " + quote(std::string(XARCH_TEST_DOCKERD_TOOLS) + "/stop.sh") + " " +
                quote(state_.string()));
            state_.clear();
        }
    }
    void kill_now() const { ::kill(pid_, SIGKILL); }

    const std::string& host() const { return host_; }
    const std::string& why() const { return why_; }

private:
    fs::path state_;
    std::string host_;
    std::string why_;
    pid_t pid_ = 0;
};

NodeSpec engine_node(std::string name, std::string host, std::vector<std::string> platforms) {
    NodeSpec node;
    node.name = std::move(name);
    node.driver = Driver::kDocker;
    node.endpoint = std::move(host);
    for (const std::string& p : platforms) {
        node.platforms.push_back(Platform::parse(p));
    }
    return node;
}

// The platforms of an index as skopeo reads it, sorted.
std::vector<std::string> index_platforms(const std::string& image) {
    const ImageIndex index =
        parse_index(run("skopeo inspect --raw --tls-verify=false docker://" + image));
    std::vector<std::string> platforms;
    for (const Descriptor& d : index.manifests) {
        EXPECT_TRUE(d.platform) << image;
        if (d.platform) {
            platforms.push_back(d.platform->to_string());
        }
    }
    std::sort(platforms.begin(), platforms.end());
    return platforms;
}

class BuildNodesTest : public testing::Test {
protected:
    static void SetUpTestSuite() {
        test::ForeignEmulators::register_missing();
        if (::geteuid() == 0) {
            second_ = std::make_unique<OwnEngine>(fs::path(XARCH_TEST_NODES_DIR) / "second");
        }
    }
    static void TearDownTestSuite() {
        second_.reset();
        test::ForeignEmulators::remove_registered();
    }

    void SetUp() override {
        std::string why;
        auto env = test::load_registry_env(&why);
        if (!env) {
            GTEST_SKIP() << why;
        }
        env_ = std::move(*env);
        host_ = test::test_docker_host(XARCH_TEST_DOCKERD_ENV, &why);
        if (host_.empty()) {
            GTEST_SKIP() << "the test dockerd: " << why;
        }
        base_ = env_.plain + "/" + env_.busybox_repo + ":" + env_.busybox_tag;
        root_ = test::fresh_test_dir("build_nodes_test");
    }

    void TearDown() override {
        if (!root_.empty() && !HasFailure()) {
            fs::remove_all(root_);
        }
    }

    const OwnEngine& second() {
        if (!second_ || second_->host().empty()) {
            ADD_FAILURE() << "the second dockerd did not start: "
                          << (second_ ? second_->why() : "not root");
        }
        return *second_;
    }

    fs::path make_context(std::string_view dockerfile) {
        const fs::path ctx = root_ / "ctx";
        write_file(ctx / "Dockerfile", dockerfile);
        return ctx;
    }

    BuildResult build(const BuilderSpec& spec,
                      const fs::path& ctx,
                      BuildOptions options,
                      Events* events = nullptr) {
        BuilderOptions builder_options;
        builder_options.cache_dir = root_ / "cache";
        builder_options.builder = spec;
        Builder builder(std::move(builder_options));
        BuildContext context = BuildContext::from_directory(ctx);
        if (events != nullptr) {
            options.progress = events->callback();
        }
        return builder.build(context, options);
    }

    // --no-cache: the engines keep their layer cache across tests; every RUN runs here.
    static BuildOptions push_options(const std::vector<std::string>& platforms,
                                     const std::string& image) {
        BuildOptions options;
        options.no_cache = true;
        for (const std::string& p : platforms) {
            options.platforms.push_back(Platform::parse(p));
        }
        options.tags = {image};
        options.outputs.push_back(OutputSpec::parse("type=registry"));
        return options;
    }

    // `docker run` of each seed platform of `image` on `host`: uname -m as the platform has it.
    void expect_runs_everywhere(const std::string& host, const std::string& image) {
        const std::string docker = "DOCKER_HOST=" + host + " docker ";
        for (const test::SeedPlatform& p : kSeedPlatforms) {
            run(docker + "pull -q --platform " + p.platform + " " + image);
            EXPECT_EQ(run(docker + "run --rm --network none --platform " + p.platform + " " +
                          image + " uname -m"),
                      std::string(p.machine) + "\n")
                << p.platform;
        }
        run(docker + "rmi -f " + image);
    }

    // True when the engine at `host` has an image of that name.
    static bool engine_has(const std::string& host, const std::string& name) {
        int status = 0;
        run("DOCKER_HOST=" + host + " docker image inspect " + name, &status);
        return status == 0;
    }

    // Each platform's RUN printed its line once (an engine's classic builder counts ARG as a
    // step, "[linux/arm64 3/3] RUN", the embedded driver does not, "[linux/arm64 2/2] RUN").
    void expect_seed_logs(Events& events) {
        for (const test::SeedPlatform& p : kSeedPlatforms) {
            std::vector<std::string> lines;
            for (const char* step : {"2/2] RUN", "3/3] RUN"}) {
                for (std::string& line : events.logs(std::string("[") + p.platform + " " + step)) {
                    lines.push_back(std::move(line));
                }
            }
            EXPECT_EQ(lines,
                      std::vector<std::string>{std::string("I'm building for ") + p.targetarch})
                << p.platform << "\n"
                << events.all_text();
        }
    }

    test::RegistryEnv env_;
    std::string host_;
    std::string base_;
    fs::path root_;
    static std::unique_ptr<OwnEngine> second_;
};

std::unique_ptr<OwnEngine> BuildNodesTest::second_;

TEST_F(BuildNodesTest, SeedThroughOneEngine) {
    XARCH_REQUIRE_FOREIGN();
    const fs::path ctx = make_context(test::seed_dockerfile(XARCH_SEED_DOCKERFILE, base_));
    const BuilderSpec spec{"one-engine", {engine_node("one-engine0", host_, {})}};
    const std::string image = env_.plain + "/nodes/seed-one:v1";
    Events events;
    const BuildResult result =
        build(spec, ctx, push_options({"amd64", "arm", "arm64"}, image), &events);

    expect_seed_logs(events);
    ASSERT_EQ(result.images.size(), 3U);
    EXPECT_EQ(index_platforms(image),
              (std::vector<std::string>{"linux/amd64", "linux/arm/v7", "linux/arm64"}));
    // The index the tag names is the one the build returned, over the manifests it pushed.
    Registry registry;
    EXPECT_EQ(registry.resolve(Reference::parse(image)).digest, result.descriptor.digest);
    for (const PlatformImage& p : result.images) {
        EXPECT_EQ(registry
                      .resolve(Reference::parse(image).without_tag().with_digest(
                          p.manifest.digest.to_string()))
                      .digest,
                  p.manifest.digest);
    }
    expect_runs_everywhere(host_, image);
}

TEST_F(BuildNodesTest, SeedThroughTwoNodes) {
    XARCH_REQUIRE_FOREIGN();
    const OwnEngine& b = second();
    ASSERT_FALSE(b.host().empty());
    const fs::path ctx = make_context(test::seed_dockerfile(XARCH_SEED_DOCKERFILE, base_));
    const BuilderSpec spec{"two-nodes",
                           {engine_node("a", host_, {"linux/amd64"}),
                            engine_node("b", b.host(), {"linux/arm64", "linux/arm/v7"})}};
    const std::string image = env_.plain + "/nodes/seed-two:v1";
    Events events;
    const BuildResult result =
        build(spec, ctx, push_options({"amd64", "arm", "arm64"}, image), &events);

    expect_seed_logs(events);
    EXPECT_EQ(index_platforms(image),
              (std::vector<std::string>{"linux/amd64", "linux/arm/v7", "linux/arm64"}));
    // Each platform was built by its node: the per-platform image is in that engine only.
    const std::string repo = env_.plain + "/nodes/seed-two:";
    EXPECT_TRUE(engine_has(host_, repo + "v1-linux-amd64"));
    EXPECT_FALSE(engine_has(b.host(), repo + "v1-linux-amd64"));
    EXPECT_TRUE(engine_has(b.host(), repo + "v1-linux-arm64"));
    EXPECT_TRUE(engine_has(b.host(), repo + "v1-linux-arm-v7"));
    EXPECT_FALSE(engine_has(host_, repo + "v1-linux-arm64"));
    ASSERT_EQ(result.images.size(), 3U);
    expect_runs_everywhere(host_, image);
}

TEST_F(BuildNodesTest, EngineAndEmbeddedNodesInOneIndex) {
    XARCH_REQUIRE_FOREIGN();
    const fs::path ctx = make_context(test::seed_dockerfile(XARCH_SEED_DOCKERFILE, base_));
    NodeSpec here;
    here.name = "here";
    here.driver = Driver::kEmbedded;
    here.platforms = {Platform::parse("linux/arm64"), Platform::parse("linux/arm/v7")};
    const BuilderSpec spec{"mixed", {engine_node("engine", host_, {"linux/amd64"}), here}};
    const std::string image = env_.plain + "/nodes/seed-mixed:v1";
    Events events;
    build(spec, ctx, push_options({"amd64", "arm", "arm64"}, image), &events);

    expect_seed_logs(events);
    EXPECT_EQ(index_platforms(image),
              (std::vector<std::string>{"linux/amd64", "linux/arm/v7", "linux/arm64"}));
    // The embedded node pushed by digest: no per-platform tag for its platforms.
    Registry registry;
    const std::vector<std::string> tags =
        registry.list_tags(Reference::parse_repository(env_.plain + "/nodes/seed-mixed"));
    EXPECT_TRUE(contains(tags, "v1-linux-amd64"));
    EXPECT_FALSE(contains(tags, "v1-linux-arm64"));
    expect_runs_everywhere(host_, image);
}

TEST_F(BuildNodesTest, OnePlatformPushesUnderItsTagsAndStaysInTheEngine) {
    const fs::path ctx = make_context("FROM " + base_ +
                                      "\nARG TARGETPLATFORM\nRUN echo \"on $TARGETPLATFORM\" > "
                                      "/where\nLABEL stage=one\n");
    const BuilderSpec spec{"single", {engine_node("single0", host_, {})}};
    const std::string first = env_.plain + "/nodes/single:a";
    const std::string second_tag = env_.plain + "/nodes/single:b";
    BuildOptions options = push_options({"linux/amd64"}, first);
    options.tags.push_back(second_tag);
    options.metadata_file = root_ / "metadata.json";
    options.iid_file = root_ / "iid";
    const BuildResult result = build(spec, ctx, options);

    // One platform: the manifest itself under both tags, as `docker push` writes it.
    Registry registry;
    EXPECT_EQ(registry.resolve(Reference::parse(first)).digest, result.descriptor.digest);
    EXPECT_EQ(registry.resolve(Reference::parse(second_tag)).digest, result.descriptor.digest);
    const std::string raw = run("skopeo inspect --raw --tls-verify=false docker://" + first);
    EXPECT_NE(raw.find("application/vnd.docker.distribution.manifest.v2+json"), std::string::npos);
    EXPECT_EQ(Digest::of(raw), result.descriptor.digest);
    // The engine keeps the image under the tags; what RUN wrote is in it.
    const std::string docker = "DOCKER_HOST=" + host_ + " docker ";
    EXPECT_EQ(run(docker + "run --rm --network none " + first + " cat /where"), "on linux/amd64\n");
    EXPECT_EQ(read_file(root_ / "iid"), result.descriptor.digest.to_string());
    const std::string metadata = read_file(root_ / "metadata.json");
    EXPECT_NE(metadata.find(result.descriptor.digest.to_string()), std::string::npos) << metadata;
    EXPECT_NE(metadata.find(result.images.front().config.to_string()), std::string::npos)
        << metadata;
    run(docker + "rmi -f " + first + " " + second_tag);
}

TEST_F(BuildNodesTest, LoadLeavesTheImageInTheEngine) {
    const fs::path ctx = make_context("FROM " + base_ + "\nRUN echo loaded > /proof\n");
    const BuilderSpec spec{"load", {engine_node("load0", host_, {})}};
    BuildOptions options;
    options.tags = {"xarch-nodes-test/loaded:v1"};
    options.outputs.push_back(OutputSpec::parse("type=docker"));
    options.iid_file = root_ / "iid";
    const BuildResult result = build(spec, ctx, options);
    const std::string docker = "DOCKER_HOST=" + host_ + " docker ";
    EXPECT_EQ(run(docker + "run --rm --network none xarch-nodes-test/loaded:v1 cat /proof"),
              "loaded\n");
    // --iidfile without a push: the image ID, which is the engine's.
    EXPECT_EQ(read_file(root_ / "iid"), result.images.front().config.to_string());
    EXPECT_EQ(run(docker + "image inspect -f '{{.Id}}' xarch-nodes-test/loaded:v1"),
              result.images.front().config.to_string() + "\n");
    run(docker + "rmi -f xarch-nodes-test/loaded:v1");

    // More than one platform cannot be loaded, as with buildx.
    options.platforms = {Platform::parse("amd64"), Platform::parse("arm64")};
    EXPECT_NE(test::error_of([&] {
                  build(spec, ctx, options);
              }).find("docker exporter does not currently support exporting manifest lists"),
              std::string::npos);
}

TEST_F(BuildNodesTest, EngineKilledMidBuildNamesNodeAndPlatformAndTagsNothing) {
    XARCH_REQUIRE_FOREIGN();
    OwnEngine dying(fs::path(XARCH_TEST_NODES_DIR) / "dying");
    ASSERT_FALSE(dying.host().empty()) << dying.why();
    // Applets by path: under Debian's QEMU busybox cannot re-execute itself by a bare name.
    const fs::path ctx =
        make_context("FROM " + base_ + "\nRUN echo started && /bin/sleep 6 && echo finished\n");
    const BuilderSpec spec{"dies",
                           {engine_node("steady", host_, {"linux/amd64"}),
                            engine_node("doomed", dying.host(), {"linux/arm64"})}};
    const std::string image = env_.plain + "/nodes/dies:v1";
    Events events;
    std::atomic<bool> killed{false};
    // The doomed engine is killed once its RUN has printed its first line.
    events.on_event = [&](const ProgressEvent& e) {
        if (e.kind == ProgressEvent::Kind::kLog && e.message.find("started") != std::string::npos &&
            events.names[e.vertex].find("linux/arm64") != std::string::npos &&
            !killed.exchange(true)) {
            dying.kill_now();
        }
    };
    const std::string error = test::error_of([&] {
        build(spec, ctx, push_options({"linux/amd64", "linux/arm64"}, image), &events);
    });
    EXPECT_TRUE(killed.load()) << events.all_text();
    EXPECT_NE(error.find("node \"doomed\""), std::string::npos) << error;
    EXPECT_NE(error.find("linux/arm64"), std::string::npos) << error;
    EXPECT_NE(error.find(dying.host()), std::string::npos) << error;
    // Nothing was pushed: not the index, not amd64's per-platform tag.
    Registry registry;
    try {
        EXPECT_TRUE(
            registry.list_tags(Reference::parse_repository(env_.plain + "/nodes/dies")).empty());
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kNotFound) << e.what();  // the repository was never made
    }
    dying.stop();
}

TEST_F(BuildNodesTest, MissingSocketIsAClearError) {
    const fs::path ctx = make_context("FROM " + base_ + "\n");
    const std::string socket = (root_ / "no-engine.sock").string();
    const BuilderSpec spec{"gone", {engine_node("gone0", "unix://" + socket, {"linux/amd64"})}};
    const std::string error =
        test::error_of([&] { build(spec, ctx, push_options({"linux/amd64"}, env_.plain + "/x")); });
    EXPECT_NE(error.find("gone0"), std::string::npos) << error;
    EXPECT_NE(error.find(socket), std::string::npos) << error;
}

TEST_F(BuildNodesTest, OutputsAnEngineCannotGiveAreRefusedBeforeBuilding) {
    const fs::path ctx = make_context("FROM " + base_ + "\n");
    const BuilderSpec spec{"refuses", {engine_node("refuses0", host_, {})}};
    BuildOptions options;
    options.outputs.push_back(OutputSpec::parse("type=oci,dest=" + (root_ / "out.tar").string()));
    Events events;
    const std::string error = test::error_of([&] { build(spec, ctx, options, &events); });
    EXPECT_NE(error.find("type=oci"), std::string::npos) << error;
    EXPECT_TRUE(events.started().empty()) << events.all_text();
    EXPECT_FALSE(fs::exists(root_ / "out.tar"));
}

}  // namespace
}  // namespace xarch
