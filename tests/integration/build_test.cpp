// SPDX-License-Identifier: Apache-2.0
// xarch::Builder end to end against the shared test registry (its three-platform busybox is the
// base image): multi-platform pushes read back by skopeo and unpacked by umoci and compared with
// the context, the cache (a rebuild does no layer work; a changed file re-runs only what sees
// it; two builds at once on one cache), SOURCE_DATE_EPOCH reproducibility, OCI outputs, and the
// errors a user meets.
#include "integration/build_support.hpp"
#include "integration/registry/registry_env.hpp"
#include "integration/test_support.hpp"

#include <xarch/builder.hpp>
#include <xarch/error.hpp>
#include <xarch/image_index.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

namespace xarch {
namespace {

namespace fs = std::filesystem;
using test::error_of;
using test::read_file;
using test::run;
using test::write_file;

using test::Events;

class BuildTest : public testing::Test {
protected:
    void SetUp() override {
        std::string why;
        auto env = test::load_registry_env(&why);
        if (!env) {
            GTEST_SKIP() << why;
        }
        env_ = std::move(*env);
        base_ = env_.plain + "/" + env_.busybox_repo + ":" + env_.busybox_tag;
        root_ = test::fresh_test_dir("build_test");
        cache_dir_ = root_ / "cache";
    }

    // A context with a Dockerfile and some files, one of them in a subdirectory.
    fs::path make_context(std::string_view dockerfile, std::string_view name = "ctx") {
        const fs::path ctx = root_ / name;
        write_file(ctx / "Dockerfile", dockerfile);
        write_file(ctx / "hello.txt", "hello from xarch\n");
        write_file(ctx / "app/main.sh", "#!/bin/sh\necho main\n");
        fs::permissions(ctx / "app/main.sh", fs::perms(0755));
        write_file(ctx / "app/data/values.json", "{\"a\": 1}\n");
        write_file(ctx / ".dockerignore", "ignored.txt\n");
        write_file(ctx / "ignored.txt", "must not be copied\n");
        return ctx;
    }

    std::string error_of_build(const fs::path& ctx) {
        return error_of([&] { build(ctx, BuildOptions{}); });
    }

    std::string repo(std::string_view name) const {
        return env_.plain + "/mytest/build-" + std::string(name);
    }

    BuildResult build(const fs::path& ctx,
                      BuildOptions options,
                      Events* events = nullptr,
                      const fs::path& cache_dir = {}) {
        BuilderOptions builder_options;
        builder_options.cache_dir = cache_dir.empty() ? cache_dir_ : cache_dir;
        Builder builder(std::move(builder_options));
        BuildContext context = BuildContext::from_directory(ctx);
        if (events != nullptr) {
            options.progress = events->callback();
        }
        return builder.build(context, options);
    }

    BuildOptions push_options(const std::string& tag,
                              std::vector<std::string> platforms = {"linux/amd64", "linux/arm64",
                                                                    "linux/arm/v7"}) {
        BuildOptions options;
        for (const std::string& p : platforms) {
            options.platforms.push_back(Platform::parse(p));
        }
        options.tags = {tag};
        options.outputs.push_back(OutputSpec::parse("type=registry"));
        return options;
    }

    test::RegistryEnv env_;
    std::string base_;
    fs::path root_;
    fs::path cache_dir_;
};

std::string dockerfile_for(const std::string& base) {
    return "FROM " + base +
           "\n"
           "ENV GREETING=hi\n"
           "WORKDIR /app\n"
           "COPY hello.txt /hello.txt\n"
           "COPY app/ /app/\n"
           "LABEL org.example.test=yes\n"
           "EXPOSE 8080\n"
           "CMD [\"cat\", \"/hello.txt\"]\n";
}

TEST_F(BuildTest, PushesThreePlatformIndexReadBySkopeoAndUmoci) {
    const fs::path ctx = make_context(dockerfile_for(base_));
    const std::string tag = repo("multi") + ":v1";
    const BuildResult result = build(ctx, push_options(tag));
    ASSERT_EQ(result.images.size(), 3U);
    EXPECT_EQ(result.descriptor.media_type, media_type::kOciIndex);

    const std::string raw = run("skopeo inspect --raw --tls-verify=false docker://" + tag);
    const ImageIndex index = parse_index(raw);
    ASSERT_EQ(index.manifests.size(), 3U);
    EXPECT_EQ(Digest::of(raw), result.descriptor.digest);
    std::vector<std::string> platforms;
    for (const Descriptor& d : index.manifests) {
        ASSERT_TRUE(d.platform);
        platforms.push_back(d.platform->to_string());
    }
    EXPECT_EQ(platforms, (std::vector<std::string>{"linux/amd64", "linux/arm64", "linux/arm/v7"}));

    // Each platform's image unpacked by umoci holds the context's files and busybox's own.
    for (const char* arch : {"amd64", "arm64", "arm"}) {
        const fs::path layout = root_ / (std::string("oci-") + arch);
        const fs::path bundle = root_ / (std::string("bundle-") + arch);
        run(std::string("skopeo copy --src-tls-verify=false --override-arch ") + arch +
            (std::string(arch) == "arm" ? " --override-variant v7" : "") + " docker://" + tag +
            " oci:" + layout.string() + ":img");
        run("umoci unpack --rootless --image " + layout.string() + ":img " + bundle.string());
        const fs::path rootfs = bundle / "rootfs";
        EXPECT_EQ(read_file(rootfs / "hello.txt"), "hello from xarch\n") << arch;
        EXPECT_EQ(read_file(rootfs / "app/main.sh"), read_file(ctx / "app/main.sh")) << arch;
        EXPECT_EQ(read_file(rootfs / "app/data/values.json"), "{\"a\": 1}\n") << arch;
        EXPECT_EQ(fs::status(rootfs / "app/main.sh").permissions() & fs::perms::owner_exec,
                  fs::perms::owner_exec);
        EXPECT_FALSE(fs::exists(rootfs / "app/ignored.txt"));
        EXPECT_TRUE(fs::exists(rootfs / "bin/busybox")) << arch;

        const boost::json::object config =
            boost::json::parse(read_file(bundle / "config.json")).as_object();
        const std::string env = boost::json::serialize(config.at("process").at("env"));
        EXPECT_NE(env.find("GREETING=hi"), std::string::npos) << env;
        EXPECT_EQ(config.at("process").at("cwd").as_string(), "/app");
    }

    // The image config: platform, history as BuildKit writes it, labels and ports.
    const std::string arm_config_raw = run(
        "skopeo inspect --config --raw --tls-verify=false --override-arch arm64 docker://" + tag);
    const ImageConfig config = parse_config(arm_config_raw);
    EXPECT_EQ(config.architecture, "arm64");
    EXPECT_EQ(config.config.labels.at("org.example.test"), "yes");
    EXPECT_TRUE(config.config.exposed_ports.contains("8080/tcp"));
    ASSERT_GE(config.history.size(), 7U);
    const History& copy = config.history[config.history.size() - 5];
    EXPECT_EQ(copy.created_by, "COPY hello.txt /hello.txt # buildkit");
    EXPECT_FALSE(copy.empty_layer);
    EXPECT_EQ(config.history.back().created_by, "CMD [\"cat\" \"/hello.txt\"]");
    EXPECT_TRUE(config.history.back().empty_layer);
    EXPECT_FALSE(config.created.empty());
}

TEST_F(BuildTest, RebuildComesFromTheCacheAndAChangeRerunsOnlyLaterSteps) {
    const fs::path ctx = make_context(dockerfile_for(base_));
    const std::string tag = repo("cache") + ":v1";
    Events first;
    const BuildResult a = build(ctx, push_options(tag), &first);
    EXPECT_EQ(first.count_containing(ProgressEvent::Kind::kVertexCached, "COPY"), 0U);

    // Nothing changed: every COPY is cached, the digest is the same.
    Events second;
    const BuildResult b = build(ctx, push_options(tag), &second);
    EXPECT_EQ(a.descriptor.digest, b.descriptor.digest);
    EXPECT_EQ(second.count_containing(ProgressEvent::Kind::kVertexStarted, "COPY"), 0U);
    EXPECT_EQ(second.count_containing(ProgressEvent::Kind::kVertexCached, "COPY"), 6U);

    // A file only the second COPY sees: the first stays cached, the second runs.
    write_file(ctx / "app/data/values.json", "{\"a\": 2}\n");
    Events third;
    const BuildResult c = build(ctx, push_options(tag), &third);
    EXPECT_NE(c.descriptor.digest, a.descriptor.digest);
    EXPECT_EQ(third.count_containing(ProgressEvent::Kind::kVertexCached, "COPY hello.txt"), 3U);
    EXPECT_EQ(third.count_containing(ProgressEvent::Kind::kVertexStarted, "COPY app/"), 3U);

    // --no-cache runs everything again.
    Events fourth;
    BuildOptions no_cache = push_options(tag);
    no_cache.no_cache = true;
    build(ctx, no_cache, &fourth);
    EXPECT_EQ(fourth.count_containing(ProgressEvent::Kind::kVertexCached, "COPY"), 0U);
}

TEST_F(BuildTest, RegistryCacheServesAnotherMachine) {
    const fs::path ctx = make_context(dockerfile_for(base_));
    const std::string cache_ref = repo("cache-export") + ":buildcache";
    BuildOptions first = push_options(repo("cache-export") + ":v1");
    first.cache_to.push_back(CacheSpec::parse("type=registry,ref=" + cache_ref + ",mode=max"));
    const BuildResult a = build(ctx, first, nullptr, root_ / "machine-a");

    // Another machine: an empty cache directory, the cache imported from the registry.
    BuildOptions second = push_options(repo("cache-export") + ":v1");
    second.cache_from.push_back(CacheSpec::parse("type=registry,ref=" + cache_ref));
    Events events;
    const BuildResult b = build(ctx, second, &events, root_ / "machine-b");
    EXPECT_EQ(events.count_containing(ProgressEvent::Kind::kVertexStarted, "COPY"), 0U);
    EXPECT_EQ(events.count_containing(ProgressEvent::Kind::kVertexCached, "COPY"), 6U);
    EXPECT_EQ(a.descriptor.digest, b.descriptor.digest);
}

TEST_F(BuildTest, ScratchLayersIdenticalForAllPlatformsAreBuiltOnce) {
    const fs::path ctx = make_context("FROM scratch\nCOPY hello.txt app/ /files/\n");
    const BuildResult result = build(ctx, push_options(repo("scratch") + ":v1"));
    ASSERT_EQ(result.images.size(), 3U);
    std::vector<std::string> layer_digests;
    for (const PlatformImage& image : result.images) {
        const Manifest m =
            parse_manifest(run("skopeo inspect --raw --tls-verify=false docker://" +
                               repo("scratch") + "@" + image.manifest.digest.to_string()));
        ASSERT_EQ(m.layers.size(), 1U);
        layer_digests.push_back(m.layers[0].digest.to_string());
    }
    EXPECT_EQ(layer_digests[0], layer_digests[1]);
    EXPECT_EQ(layer_digests[1], layer_digests[2]);
}

TEST_F(BuildTest, SourceDateEpochGivesTheSameDigestFromAnotherCheckoutAndCache) {
    const std::string dockerfile = "FROM " + base_ + "\nCOPY . /src/\nENV A=1\n";
    const fs::path ctx1 = make_context(dockerfile, "one");
    const fs::path ctx2 = make_context(dockerfile, "two");
    // Another checkout: the same content, other modification times.
    fs::last_write_time(ctx2 / "hello.txt",
                        fs::file_time_type::clock::now() - std::chrono::hours(5));
    BuildOptions options;
    options.platforms = {Platform::parse("linux/amd64"), Platform::parse("linux/arm64")};
    options.source_date_epoch = 1700000000;
    options.outputs.push_back(OutputSpec::parse("type=oci,dest=" + (root_ / "a.tar").string()));
    const BuildResult a = build(ctx1, options, nullptr, root_ / "cache-a");
    options.outputs[0] = OutputSpec::parse("type=oci,dest=" + (root_ / "b.tar").string());
    const BuildResult b = build(ctx2, options, nullptr, root_ / "cache-b");
    EXPECT_EQ(a.descriptor.digest, b.descriptor.digest);
    const std::string inspect =
        run("skopeo inspect --raw oci-archive:" + (root_ / "a.tar").string());
    EXPECT_EQ(Digest::of(inspect), a.descriptor.digest);
}

TEST_F(BuildTest, TwoBuildsAtOnceShareOneCacheDirectory) {
    const fs::path ctx = make_context(dockerfile_for(base_));
    std::exception_ptr errors[2];
    BuildResult results[2];
    std::thread threads[2];
    for (int i = 0; i < 2; ++i) {
        threads[i] = std::thread([&, i] {
            try {
                results[i] =
                    build(ctx, push_options(repo("concurrent") + ":t" + std::to_string(i)));
            } catch (...) {
                errors[i] = std::current_exception();
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    for (auto& e : errors) {
        if (e) {
            std::rethrow_exception(e);
        }
    }
    // Both are whole images (their creation times may differ, as two BuildKit builds' do).
    for (int i = 0; i < 2; ++i) {
        const std::string raw = run("skopeo inspect --raw --tls-verify=false docker://" +
                                    repo("concurrent") + ":t" + std::to_string(i));
        EXPECT_EQ(parse_index(raw).manifests.size(), 3U);
        EXPECT_EQ(Digest::of(raw), results[i].descriptor.digest);
    }
    // The cache they wrote together serves a third build entirely.
    Events third;
    build(ctx, push_options(repo("concurrent") + ":t3"), &third);
    EXPECT_EQ(third.count_containing(ProgressEvent::Kind::kVertexStarted, "COPY"), 0U);
}

TEST_F(BuildTest, OciLayoutDirectoryOutputIsReadBySkopeo) {
    const fs::path ctx = make_context("FROM " + base_ + "\nCOPY hello.txt /\n");
    BuildOptions options;
    options.platforms = {Platform::parse("linux/arm64")};
    options.outputs.push_back(
        OutputSpec::parse("type=oci,tar=false,dest=" + (root_ / "layout").string()));
    const BuildResult result = build(ctx, options);
    ASSERT_EQ(result.images.size(), 1U);
    const std::string out = run("skopeo inspect --raw oci:" + (root_ / "layout").string());
    EXPECT_NE(out.find(result.images[0].config.to_string()), std::string::npos) << out;
}

TEST_F(BuildTest, MultiStageCopyFromAStageAndAddFromAUrl) {
    // The URL: the registry's own blob endpoint serves the base's amd64 config over HTTP.
    const Manifest amd64 =
        parse_manifest(run("skopeo inspect --raw --tls-verify=false docker://" + env_.plain + "/" +
                           env_.busybox_repo + "@" + env_.busybox_manifest("linux/amd64")));
    const std::string blob = amd64.config.digest.to_string();
    const std::string url = "http://" + env_.plain + "/v2/" + env_.busybox_repo + "/blobs/" + blob;
    const fs::path ctx = make_context(
        "FROM scratch AS build\n"
        "ARG TARGETARCH\n"
        "COPY app/ /out/\n"
        "COPY <<EOF /out/generated.txt\n"
        "generated for $TARGETARCH\n"
        "EOF\n"
        "FROM " +
        base_ +
        " AS final\n"
        "ARG TARGETARCH\n"
        "COPY --from=build --chown=1000:1000 /out/ /srv/\n"
        "ADD --checksum=" +
        blob + " " + url +
        " /srv/config.json\n"
        "COPY --chmod=u=rwx,go=rx hello.txt /srv/bin/\n");
    BuildOptions options;
    options.platforms = {Platform::parse("linux/arm64")};
    options.outputs.push_back(OutputSpec::parse("type=local,dest=" + (root_ / "out").string()));
    build(ctx, options);
    const fs::path out = root_ / "out";
    EXPECT_EQ(read_file(out / "srv/main.sh"), read_file(ctx / "app/main.sh"));
    EXPECT_EQ(read_file(out / "srv/generated.txt"), "generated for arm64\n");
    EXPECT_EQ(Digest::of(read_file(out / "srv/config.json")).to_string(), blob);
    EXPECT_EQ(fs::status(out / "srv/bin/hello.txt").permissions(), fs::perms(0755));
    struct stat st {};
    ASSERT_EQ(::stat((out / "srv/main.sh").c_str(), &st), 0);
    if (::geteuid() == 0) {
        EXPECT_EQ(st.st_uid, 1000U);
    }

    // A wrong checksum is refused, naming both digests.
    write_file(ctx / "Dockerfile",
               "FROM scratch\nADD --checksum=sha256:" + std::string(64, '0') + " " + url + " /x\n");
    const std::string message = error_of_build(ctx);
    EXPECT_NE(message.find(blob), std::string::npos) << message;
}

TEST_F(BuildTest, DockerMediaTypesOnRequest) {
    const fs::path ctx = make_context("FROM " + base_ + "\nCOPY hello.txt /\n");
    BuildOptions options =
        push_options(repo("docker-types") + ":v1", {"linux/amd64", "linux/arm64"});
    options.outputs = {OutputSpec::parse("type=registry,oci-mediatypes=false")};
    build(ctx, options);
    const std::string raw =
        run("skopeo inspect --raw --tls-verify=false docker://" + repo("docker-types") + ":v1");
    const ImageIndex list = parse_index(raw);
    EXPECT_EQ(list.media_type, media_type::kDockerManifestList);
    const Manifest m =
        parse_manifest(run("skopeo inspect --raw --tls-verify=false docker://" +
                           repo("docker-types") + "@" + list.manifests[1].digest.to_string()));
    EXPECT_EQ(m.media_type, media_type::kDockerManifest);
    EXPECT_EQ(m.config.media_type, media_type::kDockerConfig);
    for (const Descriptor& layer : m.layers) {
        EXPECT_EQ(layer.media_type, media_type::kDockerLayerGzip);  // the base's too
    }
}

// ---- errors a user meets ----

TEST_F(BuildTest, MissingCopySourceNamesItAndTheLine) {
    const fs::path ctx = make_context("FROM scratch\nCOPY nothere.txt /\n");
    const std::string message = error_of([&] { build(ctx, BuildOptions{}); });
    EXPECT_NE(message.find("nothere.txt"), std::string::npos) << message;
    EXPECT_NE(message.find("Dockerfile:2"), std::string::npos) << message;
}

TEST_F(BuildTest, CopyFromAStageThatDoesNotExistIsAnError) {
    const fs::path ctx = make_context("FROM scratch\nCOPY --from=nosuchstage /x /\n");
    const std::string message = error_of([&] { build(ctx, BuildOptions{}); });
    EXPECT_NE(message.find("nosuchstage"), std::string::npos) << message;
}

TEST_F(BuildTest, BaseWithoutThePlatformListsThoseItHas) {
    const fs::path ctx = make_context("FROM " + base_ + "\nCOPY hello.txt /\n");
    BuildOptions options;
    options.platforms = {Platform::parse("linux/s390x")};
    const std::string message = error_of([&] { build(ctx, options); });
    EXPECT_NE(message.find("linux/s390x"), std::string::npos) << message;
    EXPECT_NE(message.find("linux/arm64"), std::string::npos) << message;
}

TEST_F(BuildTest, CircularStagesAreAnError) {
    const fs::path ctx = make_context(
        "FROM scratch AS a\nCOPY --from=b /x /\nFROM scratch AS b\nCOPY --from=a /y /\n");
    const std::string message = error_of([&] { build(ctx, BuildOptions{}); });
    EXPECT_FALSE(message.empty());
}

TEST_F(BuildTest, RefusedPushIsAnErrorAndTheOldOciOutputStays) {
    const fs::path ctx = make_context("FROM " + base_ + "\nCOPY hello.txt /\n");
    const fs::path tar = root_ / "out.tar";
    BuildOptions ok;
    ok.platforms = {Platform::parse("linux/amd64")};
    ok.outputs.push_back(OutputSpec::parse("type=oci,dest=" + tar.string()));
    build(ctx, ok);
    const std::string before = read_file(tar);

    write_file(ctx / "hello.txt", "changed\n");
    BuildOptions refused = ok;
    // The token registry refuses anonymous pushes.
    refused.outputs.push_back(OutputSpec::parse("type=registry"));
    refused.tags = {env_.token + "/mytest/build-refused:v1"};
    refused.outputs[0] = OutputSpec::parse("type=oci,dest=" + tar.string());
    std::swap(refused.outputs[0], refused.outputs[1]);
    const std::string message = error_of([&] { build(ctx, refused); });
    EXPECT_FALSE(message.empty());
    EXPECT_EQ(read_file(tar), before);
}

TEST_F(BuildTest, FullDiskIsAClearErrorAndLeavesTheOldOutput) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "mounting a small tmpfs needs root";
    }
    const fs::path ctx = make_context("FROM scratch\nCOPY big.bin /\n");
    {
        // Incompressible, so that the archive cannot fit the small disk.
        std::ofstream out(ctx / "big.bin", std::ios::binary);
        std::uint64_t x = 88172645463325252ULL;
        for (int i = 0; i < 512 * 1024 / 8; ++i) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.write(reinterpret_cast<const char*>(&x), sizeof x);
        }
    }
    const fs::path disk = root_ / "disk";
    fs::create_directories(disk);
    ASSERT_EQ(run("mount -t tmpfs -o size=256k tmpfs " + disk.string()), "");
    write_file(disk / "out.tar", "the old output\n");
    BuildOptions options;
    options.outputs.push_back(OutputSpec::parse("type=oci,dest=" + (disk / "out.tar").string()));
    const std::string message = error_of([&] { build(ctx, options); });
    EXPECT_NE(message.find("No space left on device"), std::string::npos) << message;
    EXPECT_EQ(read_file(disk / "out.tar"), "the old output\n");
    std::vector<std::string> left;
    for (const auto& e : fs::directory_iterator(disk)) {
        left.push_back(e.path().filename().string());
    }
    EXPECT_EQ(left, std::vector<std::string>{"out.tar"});

    // The cache itself on the full disk: the layer cannot be stored.
    const std::string cache_message =
        error_of([&] { build(ctx, BuildOptions{}, nullptr, disk / "cache"); });
    EXPECT_NE(cache_message.find("No space left on device"), std::string::npos) << cache_message;
    run("umount " + disk.string());
}

}  // namespace
}  // namespace xarch
