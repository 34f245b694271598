// SPDX-License-Identifier: Apache-2.0
// xarch_builder through the shared library: options and argument checks, a two-platform
// `FROM scratch` + COPY build into an OCI layout directory with its progress events, a push of
// the shared test registry's busybox + COPY read back with skopeo, cancellation from the progress
// callback (xarch_builder_cancel and a nonzero return), a malformed --output, prune, four
// threads building on one builder at once. Builds that need the registry skip when it is not
// there.
#include "capi_test_util.hpp"
#include "integration/registry/registry_env.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace xarch_capi_test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

using BuilderPtr = std::unique_ptr<xarch_builder, Deleter<xarch_builder_free>>;
using ResultPtr = std::unique_ptr<xarch_build_result, Deleter<xarch_build_result_free>>;
using ContextPtr = std::unique_ptr<xarch_context, Deleter<xarch_context_free>>;

// Every "digest":"..." value of a JSON document, in order.
std::vector<std::string> json_digests(const std::string& json) {
    static const std::regex kDigest("\"digest\":\\s*\"(sha256:[0-9a-f]{64})\"");
    std::vector<std::string> out;
    for (auto it = std::sregex_iterator(json.begin(), json.end(), kDigest);
         it != std::sregex_iterator(); ++it) {
        out.push_back((*it)[1]);
    }
    return out;
}

// Runs a command, returning its standard output; fails the test when it exits nonzero.
std::string run(const std::string& command) {
    std::string out;
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
    if (!pipe) {
        ADD_FAILURE() << "cannot run " << command;
        return out;
    }
    std::array<char, 4096> buffer{};
    for (std::size_t n; (n = std::fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0;) {
        out.append(buffer.data(), n);
    }
    const int status = ::pclose(pipe.release());
    EXPECT_EQ(status, 0) << command << "\n" << out;
    return out;
}

// The events a build reported, and what the callback should do.
struct Progress {
    struct Event {
        int kind;
        std::string vertex;
        std::string name;
        int64_t time_ns;
    };
    std::mutex mutex;  // the events of one build are not concurrent; kept for the tests' reads
    std::vector<Event> events;
    xarch_builder* cancel = nullptr;  // xarch_builder_cancel(cancel) on the first event
    int answer = 0;                   // the callback's return value
    int cancel_status = XARCH_EINVAL;

    std::set<std::string> vertices(int kind, const std::string& text) {
        std::lock_guard<std::mutex> lock(mutex);
        std::set<std::string> out;
        for (const Event& e : events) {
            if (e.kind == kind && e.name.find(text) != std::string::npos) {
                out.insert(e.vertex);
            }
        }
        return out;
    }
};

int record_progress(const xarch_progress_event* event, void* payload) {
    auto* progress = static_cast<Progress*>(payload);
    std::lock_guard<std::mutex> lock(progress->mutex);
    EXPECT_EQ(event->version, static_cast<unsigned int>(XARCH_PROGRESS_EVENT_VERSION));
    EXPECT_NE(event->vertex, nullptr);
    EXPECT_NE(event->name, nullptr);
    EXPECT_NE(event->id, nullptr);
    EXPECT_NE(event->message, nullptr);
    progress->events.push_back({event->kind, event->vertex, event->name, event->time_ns});
    if (progress->cancel != nullptr && progress->events.size() == 1) {
        progress->cancel_status = xarch_builder_cancel(progress->cancel);
    }
    return progress->answer;
}

class CapiBuilder : public testing::Test {
protected:
    void SetUp() override {
        xarch_builder_options options = XARCH_BUILDER_OPTIONS_INIT;
        const std::string cache = dir_ / "cache";
        options.cache_dir = cache.c_str();
        // Anonymous, so that the developer's ~/.docker/config.json cannot change the outcome.
        xarch_registry_options registry = XARCH_REGISTRY_OPTIONS_INIT;
        registry.flags = XARCH_REGISTRY_ANONYMOUS;
        options.registry = &registry;
        xarch_builder* builder = nullptr;
        ASSERT_EQ(xarch_builder_new(&builder, &options), XARCH_OK) << last_message();
        builder_.reset(builder);
    }

    // A context directory holding `dockerfile` and hello.txt.
    ContextPtr make_context(const std::string& dockerfile) {
        const fs::path ctx = dir_.path() / "ctx";
        fs::create_directories(ctx);
        write_file((ctx / "Dockerfile").string(), dockerfile);
        write_file((ctx / "hello.txt").string(), "hello from the xarch C API\n");
        xarch_context* context = nullptr;
        EXPECT_EQ(xarch_context_new(&context, ctx.c_str(), nullptr), XARCH_OK) << last_message();
        return ContextPtr(context);
    }

    std::vector<PlatformPtr> platforms_;
    std::vector<const xarch_platform*> platform_ptrs(const std::vector<std::string>& names) {
        std::vector<const xarch_platform*> out;
        for (const std::string& name : names) {
            platforms_.push_back(parse(name.c_str()));
            out.push_back(platforms_.back().get());
        }
        return out;
    }

    TempDir dir_;
    BuilderPtr builder_;
};

TEST(CapiBuilderOptions, InitFillsDefaultsAndChecksTheVersion) {
    xarch_builder_options builder_options;
    ASSERT_EQ(xarch_builder_options_init(&builder_options, XARCH_BUILDER_OPTIONS_VERSION),
              XARCH_OK);
    EXPECT_EQ(builder_options.version, static_cast<unsigned int>(XARCH_BUILDER_OPTIONS_VERSION));
    EXPECT_EQ(builder_options.cache_dir, nullptr);
    EXPECT_EQ(builder_options.jobs, 0u);
    EXPECT_EQ(builder_options.registry, nullptr);
    EXPECT_EQ(xarch_builder_options_init(&builder_options, 0), XARCH_EINVAL);
    EXPECT_EQ(xarch_builder_options_init(&builder_options, XARCH_BUILDER_OPTIONS_VERSION + 1),
              XARCH_EUNSUPPORTED);
    EXPECT_EQ(xarch_builder_options_init(nullptr, XARCH_BUILDER_OPTIONS_VERSION), XARCH_EINVAL);

    xarch_build_options build_options;
    ASSERT_EQ(xarch_build_options_init(&build_options, XARCH_BUILD_OPTIONS_VERSION), XARCH_OK);
    EXPECT_EQ(build_options.version, static_cast<unsigned int>(XARCH_BUILD_OPTIONS_VERSION));
    EXPECT_EQ(build_options.outputs_count, 0u);
    EXPECT_EQ(build_options.flags, 0u);
    EXPECT_EQ(build_options.has_source_date_epoch, 0);
    EXPECT_EQ(build_options.progress_cb, nullptr);
    EXPECT_EQ(xarch_build_options_init(&build_options, 0), XARCH_EINVAL);
    EXPECT_EQ(xarch_build_options_init(&build_options, XARCH_BUILD_OPTIONS_VERSION + 1),
              XARCH_EUNSUPPORTED);

    EXPECT_NE(xarch_features() & XARCH_FEATURE_BUILDER, 0u);
}

TEST(CapiBuilderOptions, VersionOneInitLeavesTheVersionTwoFieldsAlone) {
    // A caller built against version 1 has a smaller struct: init must not write past it.
    xarch_build_options build_options;
    std::memset(&build_options, 0xAB, sizeof build_options);
    ASSERT_EQ(xarch_build_options_init(&build_options, 1), XARCH_OK);
    EXPECT_EQ(build_options.version, 1u);
    EXPECT_EQ(build_options.payload, nullptr);
    EXPECT_EQ(build_options.allow_count, ~size_t{0} / 0xFF * 0xAB);

    xarch_builder_options builder_options;
    std::memset(&builder_options, 0xAB, sizeof builder_options);
    ASSERT_EQ(xarch_builder_options_init(&builder_options, 1), XARCH_OK);
    EXPECT_EQ(builder_options.registry, nullptr);
    EXPECT_NE(builder_options.snapshotter, XARCH_SNAPSHOTTER_AUTO);
    ASSERT_EQ(xarch_builder_options_init(&builder_options, 2), XARCH_OK);
    EXPECT_EQ(builder_options.snapshotter, XARCH_SNAPSHOTTER_AUTO);
    EXPECT_NE(builder_options.builder, nullptr);  // a version 2 struct has no such field
    ASSERT_EQ(xarch_builder_options_init(&builder_options, 3), XARCH_OK);
    EXPECT_EQ(builder_options.builder, nullptr);
}

// $XDG_CONFIG_HOME pointed at a folder of the test's (builders.json lives in its xarch/), put
// back afterwards.
class StoredBuilders : public testing::Test {
protected:
    void SetUp() override {
        if (const char* old = std::getenv("XDG_CONFIG_HOME")) {
            saved_ = old;
        }
        ::setenv("XDG_CONFIG_HOME", dir_.path().c_str(), 1);
    }
    void TearDown() override {
        if (saved_) {
            ::setenv("XDG_CONFIG_HOME", saved_->c_str(), 1);
        } else {
            ::unsetenv("XDG_CONFIG_HOME");
        }
    }
    // builders.json as `xarch create --name gone --driver docker unix://<missing>` and `xarch use
    // gone` write it.
    std::string write_gone_builder() {
        const std::string socket = dir_ / "no-engine.sock";
        fs::create_directories(dir_.path() / "xarch");
        write_file((dir_.path() / "xarch" / "builders.json").string(),
                   R"({"current": "gone", "builders": [{"name": "gone", "nodes": [{"name": "gone0",
                      "driver": "docker", "endpoint": "unix://)" +
                       socket + R"(",
                      "platforms": ["linux/amd64"]}]}]})");
        return socket;
    }
    TempDir dir_;
    std::optional<std::string> saved_;
};

TEST_F(StoredBuilders, UnknownBuilderIsEnotfoundQuotingIt) {
    xarch_builder_options options = XARCH_BUILDER_OPTIONS_INIT;
    options.builder = "nope";
    xarch_builder* builder = nullptr;
    EXPECT_EQ(xarch_builder_new(&builder, &options), XARCH_ENOTFOUND);
    EXPECT_THAT(last_message(), HasSubstr("nope"));
    EXPECT_EQ(builder, nullptr);
}

TEST_F(StoredBuilders, TheCurrentBuilderBuildsOnItsNode) {
    const std::string socket = write_gone_builder();
    const std::string cache = dir_ / "cache";
    const fs::path ctx = dir_.path() / "ctx";
    fs::create_directories(ctx);
    write_file((ctx / "Dockerfile").string(), "FROM scratch\n");
    xarch_context* context = nullptr;
    ASSERT_EQ(xarch_context_new(&context, ctx.c_str(), nullptr), XARCH_OK) << last_message();
    const ContextPtr context_ptr(context);
    // "" is the current builder (`xarch use`), and NULL none: this process.
    for (const char* name : {"", "gone"}) {
        xarch_builder_options options = XARCH_BUILDER_OPTIONS_INIT;
        options.cache_dir = cache.c_str();
        options.builder = name;
        xarch_builder* builder = nullptr;
        ASSERT_EQ(xarch_builder_new(&builder, &options), XARCH_OK) << last_message();
        const BuilderPtr builder_ptr(builder);
        xarch_build_result* result = nullptr;
        // Its one node is an engine that is not there: the error names the node and socket.
        EXPECT_EQ(xarch_builder_build(&result, builder, context, nullptr), XARCH_ENETWORK);
        EXPECT_THAT(last_message(), HasSubstr("node \"gone0\""));
        EXPECT_THAT(last_message(), HasSubstr(socket));
        EXPECT_EQ(result, nullptr);
    }
}

TEST(CapiBuilderOptions, UnknownSnapshotterIsEinval) {
    xarch_builder_options options = XARCH_BUILDER_OPTIONS_INIT;
    options.snapshotter = 7;
    xarch_builder* builder = nullptr;
    EXPECT_EQ(xarch_builder_new(&builder, &options), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("snapshotter is 7"));
    EXPECT_EQ(builder, nullptr);
}

TEST(CapiBuilderOptions, VersionZeroAndNullArgumentsAreRefused) {
    xarch_builder_options options = XARCH_BUILDER_OPTIONS_INIT;
    options.version = 0;
    xarch_builder* builder = reinterpret_cast<xarch_builder*>(&options);
    EXPECT_EQ(xarch_builder_new(&builder, &options), XARCH_EINVAL);
    EXPECT_EQ(builder, nullptr);
    EXPECT_THAT(last_message(), HasSubstr("version is 0"));
    EXPECT_EQ(xarch_builder_new(nullptr, nullptr), XARCH_EINVAL);
    EXPECT_EQ(xarch_builder_cancel(nullptr), XARCH_EINVAL);
    EXPECT_EQ(xarch_builder_prune(nullptr, -1, nullptr), XARCH_EINVAL);
    EXPECT_EQ(xarch_builder_cache_dir(nullptr), nullptr);
    EXPECT_EQ(last_code(), XARCH_EINVAL);
    EXPECT_EQ(xarch_build_result_digest(nullptr), nullptr);
    EXPECT_EQ(xarch_build_result_image_count(nullptr), 0u);
    EXPECT_EQ(last_code(), XARCH_EINVAL);
    xarch_builder_free(nullptr);
    xarch_build_result_free(nullptr);
}

TEST_F(CapiBuilder, CacheDirAndPrune) {
    EXPECT_EQ(str(xarch_builder_cache_dir(builder_.get())), (dir_ / "cache"));
    int64_t freed = -1;
    ASSERT_EQ(xarch_builder_prune(builder_.get(), -1, &freed), XARCH_OK) << last_message();
    EXPECT_GE(freed, 0);
    EXPECT_EQ(xarch_builder_prune(builder_.get(), 1 << 20, nullptr), XARCH_OK) << last_message();
}

TEST_F(CapiBuilder, NullBuilderOrContextIsEinval) {
    ContextPtr ctx = make_context("FROM scratch\nCOPY hello.txt /\n");
    xarch_build_result* result = nullptr;
    EXPECT_EQ(xarch_builder_build(&result, nullptr, ctx.get(), nullptr), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("builder"));
    EXPECT_EQ(xarch_builder_build(&result, builder_.get(), nullptr, nullptr), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("ctx"));
    EXPECT_EQ(result, nullptr);
}

TEST_F(CapiBuilder, MalformedOutputIsEinvalQuotingIt) {
    ContextPtr ctx = make_context("FROM scratch\nCOPY hello.txt /\n");
    const char* outputs[] = {"type=floppy,dest=/tmp/x"};
    xarch_build_options options = XARCH_BUILD_OPTIONS_INIT;
    options.outputs = outputs;
    options.outputs_count = 1;
    xarch_build_result* result = nullptr;
    EXPECT_EQ(xarch_builder_build(&result, builder_.get(), ctx.get(), &options), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("floppy"));
    EXPECT_EQ(result, nullptr);

    options.flags = 0x80u;
    options.outputs_count = 0;
    EXPECT_EQ(xarch_builder_build(&result, builder_.get(), ctx.get(), &options), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("unknown bits"));

    options.flags = 0;
    const char* allow[] = {"net.host"};
    options.allow = allow;
    options.allow_count = 1;
    EXPECT_EQ(xarch_builder_build(&result, builder_.get(), ctx.get(), &options), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("invalid entitlement \"net.host\""));
}

TEST_F(CapiBuilder, HostNetworkRunNeedsTheEntitlement) {
    // Refused before anything runs, so no root or base image is needed to see it.
    ContextPtr ctx = make_context("FROM scratch\nRUN --network=host true\n");
    xarch_build_options options = XARCH_BUILD_OPTIONS_INIT;
    xarch_build_result* result = nullptr;
    EXPECT_NE(xarch_builder_build(&result, builder_.get(), ctx.get(), &options), XARCH_OK);
    EXPECT_THAT(last_message(), HasSubstr("--allow network.host"));
    EXPECT_EQ(result, nullptr);
}

TEST_F(CapiBuilder, NetworkModeIsCheckedAndHostGrantsItsEntitlement) {
    ContextPtr ctx = make_context("FROM scratch\nRUN --network=host true\n");
    xarch_build_options options = XARCH_BUILD_OPTIONS_INIT;
    EXPECT_EQ(options.network, nullptr);
    options.network = "bridge";
    xarch_build_result* result = nullptr;
    EXPECT_EQ(xarch_builder_build(&result, builder_.get(), ctx.get(), &options), XARCH_EINVAL);
    EXPECT_THAT(last_message(), HasSubstr("\"bridge\""));
    // --network host allows network.host, as buildx: the RUN gets past the entitlement check
    // and fails only for want of a shell in scratch.
    options.network = "host";
    EXPECT_NE(xarch_builder_build(&result, builder_.get(), ctx.get(), &options), XARCH_OK);
    EXPECT_THAT(last_message(), Not(HasSubstr("--allow network.host")));
    // A version 2 caller has no `network`: whatever lies after its struct is not read.
    options.version = 2;
    EXPECT_NE(xarch_builder_build(&result, builder_.get(), ctx.get(), &options), XARCH_OK);
    EXPECT_THAT(last_message(), HasSubstr("--allow network.host"));
}

TEST_F(CapiBuilder, ScratchCopyForTwoPlatformsIntoAnOciLayout) {
    ContextPtr ctx = make_context("FROM scratch\nCOPY hello.txt /hello.txt\n");
    const std::string layout = dir_ / "layout";
    const std::string output = "type=oci,dest=" + layout + ",tar=false";
    const char* outputs[] = {output.c_str()};
    const std::vector<const xarch_platform*> platforms =
        platform_ptrs({"linux/amd64", "linux/arm64"});
    Progress progress;
    xarch_build_options options = XARCH_BUILD_OPTIONS_INIT;
    options.platforms = platforms.data();
    options.platforms_count = platforms.size();
    options.outputs = outputs;
    options.outputs_count = 1;
    options.progress_cb = record_progress;
    options.payload = &progress;

    xarch_build_result* built = nullptr;
    ASSERT_EQ(xarch_builder_build(&built, builder_.get(), ctx.get(), &options), XARCH_OK)
        << last_message();
    ResultPtr result(built);

    ASSERT_EQ(xarch_build_result_image_count(result.get()), 2u);
    std::vector<std::string> image_platforms;
    for (std::size_t i = 0; i < 2; ++i) {
        image_platforms.push_back(str(xarch_build_result_image_platform(result.get(), i)));
        const std::string manifest = str(xarch_build_result_image_manifest_digest(result.get(), i));
        EXPECT_THAT(manifest, StartsWith("sha256:"));
        EXPECT_THAT(str(xarch_build_result_image_config_digest(result.get(), i)),
                    StartsWith("sha256:"));
        // Every manifest is in the layout.
        EXPECT_TRUE(fs::is_regular_file(layout + "/blobs/sha256/" + manifest.substr(7)))
            << manifest;
    }
    EXPECT_THAT(image_platforms, UnorderedElementsAre("linux/amd64", "linux/arm64"));
    EXPECT_EQ(xarch_build_result_image_platform(result.get(), 2), nullptr);
    EXPECT_EQ(last_code(), XARCH_EINVAL);

    // The index is the layout's root, and the descriptor says so.
    const std::string digest = str(xarch_build_result_digest(result.get()));
    EXPECT_THAT(digest, StartsWith("sha256:"));
    const std::string descriptor = str(xarch_build_result_descriptor(result.get()));
    EXPECT_THAT(descriptor, HasSubstr("\"mediaType\":\"application/vnd.oci.image.index.v1+json\""));
    EXPECT_EQ(json_digests(descriptor), std::vector<std::string>{digest});
    const std::vector<std::string> roots = json_digests(read_file(layout + "/index.json"));
    EXPECT_NE(std::find(roots.begin(), roots.end(), digest), roots.end())
        << read_file(layout + "/index.json");
    // The index lists exactly the two manifests.
    const std::string index = read_file(layout + "/blobs/sha256/" + digest.substr(7));
    EXPECT_THAT(
        json_digests(index),
        UnorderedElementsAre(str(xarch_build_result_image_manifest_digest(result.get(), 0)),
                             str(xarch_build_result_image_manifest_digest(result.get(), 1))));
    EXPECT_THAT(str(xarch_build_result_metadata(result.get())), HasSubstr(digest));

    // The COPY steps started and completed (a fresh cache: nothing came from it).
    const std::set<std::string> started = progress.vertices(XARCH_PROGRESS_VERTEX_STARTED, "COPY");
    const std::set<std::string> completed =
        progress.vertices(XARCH_PROGRESS_VERTEX_COMPLETED, "COPY");
    EXPECT_FALSE(started.empty());
    EXPECT_EQ(started, completed);
    std::lock_guard<std::mutex> lock(progress.mutex);
    for (const Progress::Event& e : progress.events) {
        EXPECT_GT(e.time_ns, 0) << e.name;
    }
}

// The header says an xarch_builder may be shared by threads running builds at once: four do,
// each with its own context and layout, two of them with the same inputs; errors are per thread.
TEST_F(CapiBuilder, FourThreadsBuildOnOneBuilderAtOnce) {
    struct Job {
        std::string text;  // the file COPY'd: the same for jobs 0 and 1
        ContextPtr context;
        std::string output;
        int rc = -1;
        std::string digest;
        std::string error;
    };
    std::vector<Job> jobs(4);
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        Job& job = jobs[i];
        job.text = "built by thread " + std::to_string(i < 2 ? 0 : i) + "\n";
        const fs::path ctx = dir_.path() / ("ctx-" + std::to_string(i));
        fs::create_directories(ctx);
        write_file((ctx / "Dockerfile").string(), "FROM scratch\nCOPY hello.txt /hello.txt\n");
        write_file((ctx / "hello.txt").string(), job.text);
        xarch_context* context = nullptr;
        ASSERT_EQ(xarch_context_new(&context, ctx.c_str(), nullptr), XARCH_OK) << last_message();
        job.context.reset(context);
        job.output = "type=oci,tar=false,dest=" + (dir_ / ("layout-" + std::to_string(i)));
    }
    const std::vector<const xarch_platform*> platforms =
        platform_ptrs({"linux/amd64", "linux/arm64"});
    std::vector<std::thread> threads;
    for (Job& job : jobs) {
        threads.emplace_back([&job, &platforms, this] {
            const char* outputs[] = {job.output.c_str()};
            xarch_build_options options = XARCH_BUILD_OPTIONS_INIT;
            options.platforms = platforms.data();
            options.platforms_count = platforms.size();
            options.outputs = outputs;
            options.outputs_count = 1;
            // SOURCE_DATE_EPOCH: the digest then depends on the inputs alone, not on when.
            options.has_source_date_epoch = 1;
            options.source_date_epoch = 1700000000;
            xarch_build_result* built = nullptr;
            job.rc = xarch_builder_build(&built, builder_.get(), job.context.get(), &options);
            if (job.rc == XARCH_OK) {
                job.digest = str(xarch_build_result_digest(built));
            } else {
                job.error = last_message();  // this thread's own
            }
            xarch_build_result_free(built);
        });
    }
    for (std::thread& t : threads) {
        t.join();
    }
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        EXPECT_EQ(jobs[i].rc, XARCH_OK) << i << ": " << jobs[i].error;
        EXPECT_THAT(jobs[i].digest, StartsWith("sha256:")) << i;
        EXPECT_TRUE(fs::is_regular_file(dir_ / ("layout-" + std::to_string(i)) + "/index.json"))
            << i;
    }
    // The same inputs give the same index; other inputs another.
    EXPECT_EQ(jobs[0].digest, jobs[1].digest);
    EXPECT_NE(jobs[0].digest, jobs[2].digest);
    EXPECT_NE(jobs[2].digest, jobs[3].digest);
}

TEST_F(CapiBuilder, CancelFromTheProgressCallback) {
    ContextPtr ctx = make_context("FROM scratch\nCOPY hello.txt /hello.txt\n");
    const std::string output = "type=oci,dest=" + (dir_ / "cancelled") + ",tar=false";
    const char* outputs[] = {output.c_str()};
    Progress progress;
    progress.cancel = builder_.get();
    xarch_build_options options = XARCH_BUILD_OPTIONS_INIT;
    options.outputs = outputs;
    options.outputs_count = 1;
    options.progress_cb = record_progress;
    options.payload = &progress;
    xarch_build_result* result = nullptr;
    EXPECT_EQ(xarch_builder_build(&result, builder_.get(), ctx.get(), &options), XARCH_ECANCELLED)
        << last_message();
    EXPECT_EQ(result, nullptr);
    EXPECT_EQ(progress.cancel_status, XARCH_OK);
    EXPECT_FALSE(fs::exists(dir_.path() / "cancelled" / "index.json"));

    // The builder still builds after a cancel.
    progress.cancel = nullptr;
    ASSERT_EQ(xarch_builder_build(&result, builder_.get(), ctx.get(), &options), XARCH_OK)
        << last_message();
    ResultPtr built(result);
    EXPECT_EQ(xarch_build_result_image_count(built.get()), 1u);
}

TEST_F(CapiBuilder, NonzeroFromTheProgressCallbackCancels) {
    ContextPtr ctx = make_context("FROM scratch\nCOPY hello.txt /hello.txt\n");
    Progress progress;
    progress.answer = 7;
    xarch_build_options options = XARCH_BUILD_OPTIONS_INIT;
    options.progress_cb = record_progress;
    options.payload = &progress;
    xarch_build_result* result = nullptr;
    EXPECT_EQ(xarch_builder_build(&result, builder_.get(), ctx.get(), &options), XARCH_ECANCELLED);
    EXPECT_THAT(last_message(), HasSubstr("returned 7"));
    EXPECT_EQ(result, nullptr);
    // Not called again once it asked to stop.
    std::lock_guard<std::mutex> lock(progress.mutex);
    EXPECT_EQ(progress.events.size(), 1u);
}

TEST_F(CapiBuilder, PushBusyboxPlusCopyForTwoPlatforms) {
    std::string why;
    auto env = xarch::test::load_registry_env(&why);
    if (!env) {
        GTEST_SKIP() << why;
    }
    ContextPtr ctx = make_context("FROM " + env->plain + "/" + env->busybox_repo + ":" +
                                  env->busybox_tag + "\nCOPY hello.txt /hello.txt\n");
    const std::string tag =
        env->plain + "/capi/builder-push-" + std::to_string(::getpid()) + ":latest";
    const char* tags[] = {tag.c_str()};
    const std::vector<const xarch_platform*> platforms =
        platform_ptrs({"linux/amd64", "linux/arm64"});
    xarch_build_options options = XARCH_BUILD_OPTIONS_INIT;
    options.platforms = platforms.data();
    options.platforms_count = platforms.size();
    options.tags = tags;
    options.tags_count = 1;
    options.flags = XARCH_BUILD_PUSH;
    xarch_build_result* built = nullptr;
    ASSERT_EQ(xarch_builder_build(&built, builder_.get(), ctx.get(), &options), XARCH_OK)
        << last_message();
    ResultPtr result(built);
    ASSERT_EQ(xarch_build_result_image_count(result.get()), 2u);

    // What the registry serves under the tag is the index the build made, over its manifests.
    const std::string raw = run("skopeo inspect --raw --tls-verify=false docker://" + tag);
    EXPECT_THAT(raw, HasSubstr("application/vnd.oci.image.index.v1+json"));
    EXPECT_THAT(
        json_digests(raw),
        UnorderedElementsAre(str(xarch_build_result_image_manifest_digest(result.get(), 0)),
                             str(xarch_build_result_image_manifest_digest(result.get(), 1))));
    const std::string by_digest = run(
        "skopeo inspect --raw --tls-verify=false docker://" + env->plain + "/capi/builder-push-" +
        std::to_string(::getpid()) + "@" + str(xarch_build_result_digest(result.get())));
    EXPECT_EQ(by_digest, raw);
}

TEST_F(CapiBuilder, FailingRunIsEbuildWithItsClassAndLine) {
    std::string why;
    auto env = xarch::test::load_registry_env(&why);
    if (!env) {
        GTEST_SKIP() << why;
    }
    if (::geteuid() != 0) {
        GTEST_SKIP() << "RUN needs root";
    }
    ContextPtr ctx = make_context("FROM " + env->plain + "/" + env->busybox_repo + ":" +
                                  env->busybox_tag + "\nRUN echo out; exit 3\n");
    const std::string layout = dir_ / "layout";
    const std::string output = "type=oci,dest=" + layout + ",tar=false";
    const char* outputs[] = {output.c_str()};
    const std::vector<const xarch_platform*> platforms = platform_ptrs({"linux/amd64"});
    xarch_build_options options = XARCH_BUILD_OPTIONS_INIT;
    options.platforms = platforms.data();
    options.platforms_count = platforms.size();
    options.outputs = outputs;
    options.outputs_count = 1;
    xarch_build_result* result = nullptr;
    EXPECT_EQ(xarch_builder_build(&result, builder_.get(), ctx.get(), &options), XARCH_EBUILD);
    EXPECT_EQ(result, nullptr);
    EXPECT_STREQ(xarch_error_last()->class_name, "xarch::BuildError");
    EXPECT_STREQ(xarch_error_code_name(XARCH_EBUILD), "XARCH_EBUILD");
    EXPECT_THAT(last_message(), HasSubstr("did not complete successfully: exit code: 3"));
    // The failing instruction's place, as for any Dockerfile error.
    const xarch_error_location* where = xarch_error_last_location();
    EXPECT_STREQ(where->file, "Dockerfile");
    EXPECT_EQ(where->start_line, 2);
    EXPECT_FALSE(fs::exists(layout + "/index.json"));
}

}  // namespace
}  // namespace xarch_capi_test
