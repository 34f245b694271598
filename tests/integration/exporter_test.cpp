// SPDX-License-Identifier: Apache-2.0
// The exporters on a tiny image built by hand into an OCI layout store (layer::write_layer):
// registry pushes read back by skopeo, base layers mounted from their source repository (seen
// in the fault proxy's log), OCI archives read by skopeo and unpacked by umoci, OCI layout
// directories, docker archives, local and tar outputs, and failed exports that leave the old
// output in place. The registry cases skip when the shared test registries are not there.
#include "exporter/exporter.hpp"

#include "integration/dockerd/dockerd_env.hpp"
#include "integration/registry/registry_env.hpp"
#include "integration/test_support.hpp"
#include "layer/unpack.hpp"
#include "layer/writer.hpp"
#include "util/progress_reporter.hpp"

#include <xarch/error.hpp>
#include <xarch/image_index.hpp>
#include <xarch/reference.hpp>

#include <boost/json.hpp>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using xarch::test::read_file;
using xarch::test::run;
using namespace xarch;  // NOLINT(google-build-using-namespace): a test of many xarch types
using exporter::BuiltImage;
using exporter::ExportContext;
using exporter::ExportRequest;
using exporter::LayerRef;

constexpr std::int64_t kMtimeNs = std::int64_t{1700000000} * 1000000000;

// A name of this test's own, for repositories and folders.
std::string test_name(std::string_view what) {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "exporter-it/";
    for (char c : std::string(info->name()) + "-" + std::string(what)) {
        name += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    return name + "-" + std::to_string(::getpid());
}

layer::Entry directory(std::string path) {
    layer::Entry e;
    e.path = std::move(path);
    e.type = layer::EntryType::kDirectory;
    e.mode = 0755;
    e.mtime_ns = kMtimeNs;
    return e;
}

layer::Entry file(std::string path, std::string data) {
    layer::Entry e;
    e.path = std::move(path);
    e.mode = 0644;
    e.mtime_ns = kMtimeNs;
    e.size = static_cast<std::int64_t>(data.size());
    e.data = std::move(data);
    return e;
}

// What the test expects the exported filesystem of one platform to hold.
std::string hello_for(const Platform& platform) {
    return "hello from " + platform.to_string() + "\n";
}

class ExporterTest : public testing::Test {
protected:
    void SetUp() override {
        std::string name = test_name("work");
        std::replace(name.begin(), name.end(), '/', '-');
        dir_ = fs::path(::testing::TempDir()) / name;
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        store_.emplace(OciLayout::create(dir_ / "store"));
        RegistryOptions options;
        options.credentials = nullptr;  // the developer's docker config must not matter
        options.retry_attempts = 2;
        registry_.emplace(std::move(options));
        env_ = test::load_registry_env(&why_no_registry_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    // One image: /app/hello.txt (naming the platform) and /app/common.txt over `base`.
    BuiltImage make_image(const Platform& platform,
                          const std::vector<LayerRef>& base = {},
                          const std::vector<Digest>& base_diff_ids = {}) {
        auto blob =
            layer::write_layer(*store_,
                               {directory("app"), file("app/hello.txt", hello_for(platform)),
                                file("app/common.txt", "common\n")},
                               layer::WriteOptions{});
        BuiltImage image;
        image.platform = platform;
        image.layers = base;
        image.layers.push_back(LayerRef{blob.descriptor, blob.diff_id, {}});
        std::string diff_ids;
        for (const auto& d : base_diff_ids) {
            diff_ids += "\"" + d.to_string() + "\",";
        }
        diff_ids += "\"" + blob.diff_id.to_string() + "\"";
        const Platform p = platform.normalized();
        std::string config =
            R"({"architecture":")" + p.architecture() + R"(","os":")" + p.os() + "\"";
        if (!p.variant().empty()) {
            config += R"(,"variant":")" + p.variant() + "\"";
        }
        config += R"(,"config":{},"rootfs":{"type":"layers","diff_ids":[)" + diff_ids + "]}}";
        image.config = RawContent::of(config, std::string(media_type::kOciConfig));
        store_->write_blob(image.config.descriptor(), image.config.bytes);
        Manifest manifest;
        manifest.config = image.config.descriptor();
        for (const auto& layer : image.layers) {
            manifest.layers.push_back(layer.blob);
        }
        image.manifest =
            RawContent::of(manifest.serialize(), std::string(media_type::kOciManifest));
        store_->write_blob(image.manifest.descriptor(), image.manifest.bytes);
        return image;
    }

    ExportRequest make_request(const std::vector<Platform>& platforms) {
        ExportRequest request;
        ImageIndex index;
        for (const auto& platform : platforms) {
            request.images.push_back(make_image(platform));
            Descriptor d = request.images.back().manifest.descriptor();
            d.platform = platform.normalized();
            index.manifests.push_back(std::move(d));
        }
        request.index = index.to_raw();
        store_->write_blob(request.index.descriptor(), request.index.bytes);
        return request;
    }

    // The filesystem of image i: its layers unpacked from the store.
    layer::MergedView filesystem(const ExportRequest& request, std::size_t i) {
        std::vector<std::shared_ptr<const layer::MergedView::Layer>> layers;
        for (std::size_t n = 0; n < request.images.at(i).layers.size(); ++n) {
            const auto& ref = request.images[i].layers[n];
            const std::string bytes = store_->read_blob(ref.blob.digest);
            std::size_t offset = 0;
            const fs::path dir =
                dir_ / "unpacked" /
                (std::to_string(i) + "-" + std::to_string(n) + "-" + std::to_string(unpacks_++));
            fs::create_directories(dir.parent_path());
            auto entries = layer::unpack_layer(
                [&](std::span<std::byte> buffer) {
                    const std::size_t count = std::min(buffer.size(), bytes.size() - offset);
                    std::memcpy(buffer.data(), bytes.data() + offset, count);
                    offset += count;
                    return count;
                },
                dir, ref.diff_id);
            layers.push_back(std::make_shared<const layer::MergedView::Layer>(
                layer::MergedView::Layer{dir, std::move(entries)}));
        }
        return layer::MergedView(std::move(layers));
    }

    exporter::ExportResult export_all(const ExportRequest& request) {
        ExportContext context{
            *store_,
            *registry_,
            progress_,
            [] { return false; },
            [this](const LayerRef& ref) {
                ++ensured_;
                if (ensure_blob_) {
                    ensure_blob_(ref);
                }
            },
            [this, &request](std::size_t i) { return filesystem(request, i); },
            docker_host_,
        };
        return exporter::export_all(request, context);
    }

    // The statuses reported under a vertex named `name`.
    std::vector<ProgressEvent> statuses(std::string_view name) {
        std::lock_guard lock(mutex_);
        std::vector<ProgressEvent> out;
        for (const auto& e : events_) {
            if (e.kind == ProgressEvent::Kind::kStatus && e.name == name) {
                out.push_back(e);
            }
        }
        return out;
    }

    bool require_registry() { return env_.has_value(); }

    fs::path dir_;
    std::optional<OciLayout> store_;
    std::optional<Registry> registry_;
    std::optional<test::RegistryEnv> env_;
    std::string why_no_registry_;
    std::mutex mutex_;
    std::vector<ProgressEvent> events_;
    util::ProgressReporter progress_{[this](const ProgressEvent& e) {
        std::lock_guard lock(mutex_);
        events_.push_back(e);
    }};
    int ensured_ = 0;
    std::function<void(const LayerRef&)> ensure_blob_;
    std::string docker_host_;
    int unpacks_ = 0;
};

#define REQUIRE_REGISTRY()                    \
    do {                                      \
        if (!require_registry()) {            \
            GTEST_SKIP() << why_no_registry_; \
        }                                     \
    } while (false)

const Platform kAmd64 = Platform::parse("linux/amd64");
const Platform kArm64 = Platform::parse("linux/arm64");
const Platform kArmV7 = Platform::parse("linux/arm/v7");

TEST_F(ExporterTest, OciArchiveIsReadBySkopeoAndUnpackedByUmoci) {
    auto request = make_request({kAmd64});
    request.tags = {"example.test/exporter/app:v1"};
    const fs::path archive = dir_ / "out" / "image.tar";
    request.outputs = {OutputSpec::parse("type=oci,dest=" + archive.string())};
    const auto result = export_all(request);

    // One platform: the manifest is the root, as BuildKit exports it.
    EXPECT_EQ(result.descriptor.digest, request.images[0].manifest.digest);
    EXPECT_EQ(run("skopeo inspect --raw oci-archive:" + archive.string()),
              request.images[0].manifest.bytes);

    const fs::path layout = dir_ / "extracted";
    fs::create_directories(layout);
    run("tar -xf " + archive.string() + " -C " + layout.string());
    const auto index = parse_index(read_file(layout / "index.json"));
    ASSERT_EQ(index.manifests.size(), 1U);
    EXPECT_EQ(index.manifests[0].annotations.at("io.containerd.image.name"),
              "example.test/exporter/app:v1");
    EXPECT_EQ(index.manifests[0].annotations.at(std::string(annotation::kRefName)), "v1");

    const fs::path bundle = dir_ / "bundle";
    run("umoci unpack --rootless --image " + layout.string() + ":v1 " + bundle.string());
    EXPECT_EQ(read_file(bundle / "rootfs" / "app" / "hello.txt"), hello_for(kAmd64));
    EXPECT_EQ(read_file(bundle / "rootfs" / "app" / "common.txt"), "common\n");

    const auto metadata = boost::json::parse(result.metadata_json).as_object();
    EXPECT_EQ(metadata.at("containerimage.digest").as_string(),
              request.images[0].manifest.digest.to_string());
    EXPECT_EQ(metadata.at("containerimage.config.digest").as_string(),
              request.images[0].config.digest.to_string());
    EXPECT_EQ(metadata.at("image.name").as_string(), "example.test/exporter/app:v1");
    EXPECT_EQ(metadata.at("containerimage.descriptor").at("size").as_int64(),
              request.images[0].manifest.descriptor().size);
}

TEST_F(ExporterTest, MultiPlatformOciArchiveHoldsTheIndex) {
    auto request = make_request({kAmd64, kArm64, kArmV7});
    const fs::path archive = dir_ / "multi.tar";
    request.outputs = {OutputSpec::parse("type=oci,dest=" + archive.string())};
    const auto result = export_all(request);
    EXPECT_EQ(result.descriptor.digest, request.index.digest);
    EXPECT_EQ(run("skopeo inspect --raw oci-archive:" + archive.string()), request.index.bytes);
    const auto metadata = boost::json::parse(result.metadata_json).as_object();
    EXPECT_FALSE(metadata.contains("containerimage.config.digest"));
    EXPECT_FALSE(metadata.contains("image.name"));
    // Every platform's image is complete in the archive.
    const fs::path layout = dir_ / "multi";
    fs::create_directories(layout);
    run("tar -xf " + archive.string() + " -C " + layout.string());
    for (const auto& image : request.images) {
        for (const auto& layer : image.layers) {
            EXPECT_TRUE(
                fs::exists(layout / "blobs" / "sha256" / std::string(layer.blob.digest.hex())));
        }
    }
}

TEST_F(ExporterTest, OciLayoutDirectoryGetsTheImageUnderItsTag) {
    auto request = make_request({kAmd64, kArm64});
    request.tags = {"example.test/exporter/dir:v2"};
    const fs::path out = dir_ / "layout";
    request.outputs = {OutputSpec::parse("type=oci,tar=false,dest=" + out.string())};
    export_all(request);
    const auto layout = OciLayout::open(out);
    ASSERT_TRUE(layout.resolve("v2").has_value());
    EXPECT_EQ(layout.resolve("v2")->digest, request.index.digest);
    EXPECT_EQ(run("skopeo inspect --raw oci:" + out.string() + ":v2"), request.index.bytes);

    // A second export moves the tag; the layout is reused.
    auto second = make_request({kArmV7});
    second.tags = request.tags;
    second.outputs = request.outputs;
    export_all(second);
    EXPECT_EQ(OciLayout::open(out).resolve("v2")->digest, second.images[0].manifest.digest);
}

TEST_F(ExporterTest, DockerArchiveHasManifestJsonAndIsReadBySkopeo) {
    auto request = make_request({kAmd64});
    request.tags = {"exporter-app"};
    const fs::path archive = dir_ / "docker.tar";
    request.outputs = {OutputSpec::parse("type=docker,dest=" + archive.string())};
    const auto result = export_all(request);
    const auto manifest_json =
        boost::json::parse(run("tar -xOf " + archive.string() + " manifest.json"));
    const auto& entry = manifest_json.as_array().at(0).as_object();
    EXPECT_EQ(entry.at("Config").as_string(),
              "blobs/sha256/" + std::string(request.images[0].config.digest.hex()));
    EXPECT_EQ(entry.at("RepoTags").as_array().at(0).as_string(), "exporter-app:latest");
    EXPECT_EQ(entry.at("Layers").as_array().size(), request.images[0].layers.size());
    const auto inspected =
        boost::json::parse(run("skopeo inspect docker-archive:" + archive.string()));
    EXPECT_EQ(inspected.at("Architecture").as_string(), "amd64");
    EXPECT_EQ(boost::json::parse(result.metadata_json).at("image.name").as_string(),
              "docker.io/library/exporter-app:latest");
}

TEST_F(ExporterTest, DockerRefusesSeveralPlatformsBeforeWritingAnything) {
    auto request = make_request({kAmd64, kArm64});
    const fs::path archive = dir_ / "refused.tar";
    const fs::path local = dir_ / "untouched";
    // The local output comes first: nothing at all is written when any output is refused.
    request.outputs = {OutputSpec::parse("type=local,dest=" + local.string()),
                       OutputSpec::parse("type=docker,dest=" + archive.string())};
    try {
        export_all(request);
        ADD_FAILURE() << "exported a manifest list as a docker archive";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
        EXPECT_EQ(std::string(e.what()),
                  "docker exporter does not support exporting manifest lists, use the oci "
                  "exporter instead");
    }
    EXPECT_FALSE(fs::exists(archive));
    EXPECT_FALSE(fs::exists(local));
}

TEST_F(ExporterTest, LocalOutputReplacesTheDirectoryWithOneSubdirectoryPerPlatform) {
    auto single = make_request({kAmd64});
    const fs::path out = dir_ / "local";
    fs::create_directories(out);
    std::ofstream(out / "stale.txt") << "old";
    single.outputs = {OutputSpec::parse(out.string())};
    export_all(single);
    EXPECT_EQ(read_file(out / "app" / "hello.txt"), hello_for(kAmd64));
    EXPECT_FALSE(fs::exists(out / "stale.txt"));

    auto multi = make_request({kArm64, kArmV7});
    multi.outputs = single.outputs;
    export_all(multi);
    EXPECT_EQ(read_file(out / "linux_arm64" / "app" / "hello.txt"), hello_for(kArm64));
    EXPECT_EQ(read_file(out / "linux_arm_v7" / "app" / "hello.txt"), hello_for(kArmV7));
    EXPECT_FALSE(fs::exists(out / "app"));
    // No temporary directories are left beside it.
    for (const auto& e : fs::directory_iterator(dir_)) {
        EXPECT_EQ(e.path().filename().string().find(".xarch-tmp-"), std::string::npos) << e.path();
    }
}

TEST_F(ExporterTest, TarOutputHoldsTheFilesystem) {
    auto single = make_request({kAmd64});
    const fs::path tar = dir_ / "fs.tar";
    single.outputs = {OutputSpec::parse("type=tar,dest=" + tar.string())};
    export_all(single);
    const fs::path one = dir_ / "one";
    fs::create_directories(one);
    run("tar -xf " + tar.string() + " -C " + one.string());
    EXPECT_EQ(read_file(one / "app" / "hello.txt"), hello_for(kAmd64));

    auto multi = make_request({kAmd64, kArmV7});
    multi.outputs = single.outputs;
    export_all(multi);
    const fs::path two = dir_ / "two";
    fs::create_directories(two);
    run("tar -xf " + tar.string() + " -C " + two.string());
    EXPECT_EQ(read_file(two / "linux_amd64" / "app" / "hello.txt"), hello_for(kAmd64));
    EXPECT_EQ(read_file(two / "linux_arm_v7" / "app" / "common.txt"), "common\n");
}

TEST_F(ExporterTest, DashWritesTheTarToStandardOutput) {
    auto request = make_request({kAmd64});
    request.outputs = {OutputSpec::parse("-")};
    const fs::path captured = dir_ / "stdout.tar";
    // Standard output redirected to a file for the export, then put back.
    std::fflush(stdout);
    const int saved = ::dup(STDOUT_FILENO);
    const int file = ::open(captured.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(saved, 0);
    ASSERT_GE(file, 0);
    ::dup2(file, STDOUT_FILENO);
    ::close(file);
    try {
        export_all(request);
    } catch (...) {
        ::dup2(saved, STDOUT_FILENO);
        ::close(saved);
        throw;
    }
    ::dup2(saved, STDOUT_FILENO);
    ::close(saved);
    const fs::path out = dir_ / "from-stdout";
    fs::create_directories(out);
    run("tar -xf " + captured.string() + " -C " + out.string());
    EXPECT_EQ(read_file(out / "app" / "hello.txt"), hello_for(kAmd64));

    request.outputs = {OutputSpec::parse("-"), OutputSpec::parse("type=oci")};
    try {
        export_all(request);
        ADD_FAILURE() << "two outputs went to standard output";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), "multiple outputs configured to write to stdout");
    }
}

TEST_F(ExporterTest, FailedExportsLeaveTheOldOutputInPlace) {
    auto request = make_request({kAmd64});
    const fs::path archive = dir_ / "keep" / "image.tar";
    fs::create_directories(archive.parent_path());
    std::ofstream(archive) << "old archive";
    const fs::path local = dir_ / "keep" / "local";
    fs::create_directories(local);
    std::ofstream(local / "old.txt") << "old file";

    // A layer gone from the store that cannot be fetched again.
    const auto& layer = request.images[0].layers.back();
    fs::remove(store_->blob_path(layer.blob.digest));
    ensure_blob_ = [](const LayerRef& ref) {
        throw Error(ErrorCode::kNotFound, "no source for " + ref.blob.digest.to_string());
    };
    request.outputs = {OutputSpec::parse("type=oci,dest=" + archive.string())};
    EXPECT_THROW(export_all(request), Error);
    EXPECT_EQ(ensured_, 1);
    EXPECT_EQ(read_file(archive), "old archive");

    // A filesystem that cannot be read: the old directory stays.
    request.outputs = {OutputSpec::parse("type=local,dest=" + local.string())};
    EXPECT_THROW(export_all(request), Error);
    EXPECT_EQ(read_file(local / "old.txt"), "old file");
    for (const auto& e : fs::directory_iterator(archive.parent_path())) {
        EXPECT_EQ(e.path().filename().string().find(".xarch-tmp-"), std::string::npos) << e.path();
    }
}

TEST_F(ExporterTest, LoadsIntoTheDockerEngineWhichRunsTheImage) {
    REQUIRE_REGISTRY();  // for the busybox base layout
    std::string why;
    docker_host_ = test::test_docker_host(XARCH_TEST_DOCKERD_ENV, &why);
    if (docker_host_.empty()) {
        GTEST_SKIP() << why;
    }
    // busybox (amd64, from the seeded layout) under the test's layer, so that it runs.
    const OciLayout seeded = OciLayout::open(env_->busybox_oci);
    const auto root = seeded.resolve("busybox-amd64");
    ASSERT_TRUE(root.has_value());
    const auto base = parse_manifest(seeded.read_blob(root->digest), root->media_type);
    const auto base_config = parse_config(seeded.read_blob(base.config.digest));
    std::vector<LayerRef> base_layers;
    for (std::size_t i = 0; i < base.layers.size(); ++i) {
        store_->write_blob(base.layers[i], seeded.read_blob(base.layers[i].digest));
        base_layers.push_back(LayerRef{base.layers[i], base_config.rootfs.diff_ids.at(i), {}});
    }
    ExportRequest request;
    request.images.push_back(make_image(kAmd64, base_layers, base_config.rootfs.diff_ids));
    request.index = ImageIndex{}.to_raw();
    const std::string tag = "xarch-exporter-load:" + std::to_string(::getpid());
    request.tags = {tag};
    request.outputs = {OutputSpec::parse("type=docker")};
    export_all(request);

    const std::string env = "DOCKER_HOST=" + docker_host_ + " ";
    EXPECT_EQ(run(env + "docker image inspect --format '{{.Id}}' " + tag),
              request.images[0].config.digest.to_string() + "\n");
    EXPECT_EQ(run(env + "docker run --rm --network none " + tag + " cat /app/hello.txt"),
              hello_for(kAmd64));
    run(env + "docker image rm " + tag);
    // The engine's answer was passed on as log lines.
    std::lock_guard lock(mutex_);
    EXPECT_TRUE(std::any_of(events_.begin(), events_.end(), [&](const ProgressEvent& e) {
        return e.kind == ProgressEvent::Kind::kLog &&
               e.message.find("Loaded image") != std::string::npos;
    }));
}

TEST_F(ExporterTest, LoadReportsTheEnginesErrorText) {
    std::string why;
    docker_host_ = test::test_docker_host(XARCH_TEST_DOCKERD_ENV, &why);
    if (docker_host_.empty()) {
        GTEST_SKIP() << why;
    }
    // A "layer" that is no tar: the engine refuses the archive and says why.
    auto request = make_request({kAmd64});
    auto& image = request.images[0];
    const Descriptor junk = store_->store_blob(std::string(media_type::kOciLayerGzip), "not a tar");
    image.layers.push_back(LayerRef{junk, Digest::of("not a tar"), {}});
    Manifest manifest = parse_manifest(image.manifest.bytes, image.manifest.media_type);
    manifest.layers.push_back(junk);
    image.manifest = RawContent::of(manifest.serialize(), std::string(media_type::kOciManifest));
    store_->write_blob(image.manifest.descriptor(), image.manifest.bytes);
    request.outputs = {OutputSpec::parse("type=docker")};
    try {
        export_all(request);
        ADD_FAILURE() << "the engine loaded a broken archive";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kIo) << e.what();
        EXPECT_NE(std::string(e.what()).find("docker load into " + docker_host_), std::string::npos)
            << e.what();
    }
}

TEST_F(ExporterTest, LoadWithoutAnEngineSaysWhereItLooked) {
    auto request = make_request({kAmd64});
    docker_host_ = "unix://" + (dir_ / "no-such.sock").string();
    request.outputs = {OutputSpec::parse("type=docker")};
    try {
        export_all(request);
        ADD_FAILURE() << "loaded into no engine";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kNetwork) << e.what();
        EXPECT_NE(std::string(e.what()).find(docker_host_), std::string::npos) << e.what();
    }
    docker_host_ = "ssh://user@192.0.2.1";
    try {
        export_all(request);
        ADD_FAILURE() << "loaded over ssh";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kUnsupported) << e.what();
    }
}

TEST_F(ExporterTest, PushesTheIndexUnderEveryName) {
    REQUIRE_REGISTRY();
    auto request = make_request({kAmd64, kArm64});
    const std::string repo = env_->plain + "/" + test_name("multi");
    request.tags = {repo + ":1"};
    request.outputs = {OutputSpec::parse("type=image,push=true,name=" + repo + ":2")};
    const auto result = export_all(request);
    EXPECT_EQ(result.descriptor.digest, request.index.digest);
    for (const char* tag : {":1", ":2"}) {
        EXPECT_EQ(run("skopeo inspect --raw --tls-verify=false docker://" + repo + tag),
                  request.index.bytes);
    }
    // Each layer was reported by digest, complete.
    for (const auto& image : request.images) {
        const auto& digest = image.layers.back().blob.digest.to_string();
        const auto events = statuses("exporting to image");
        EXPECT_TRUE(std::any_of(events.begin(), events.end(), [&](const ProgressEvent& e) {
            return e.id == digest && e.completed && e.current == image.layers.back().blob.size;
        })) << digest;
    }
    const auto metadata = boost::json::parse(result.metadata_json).as_object();
    EXPECT_EQ(metadata.at("containerimage.digest").as_string(), request.index.digest.to_string());
    EXPECT_EQ(metadata.at("image.name").as_string(), repo + ":1," + repo + ":2");
    EXPECT_EQ(metadata.at("containerimage.descriptor").at("mediaType").as_string(),
              std::string(media_type::kOciIndex));
}

TEST_F(ExporterTest, SinglePlatformPushIsTheManifest) {
    REQUIRE_REGISTRY();
    auto request = make_request({kArm64});
    const std::string ref = env_->plain + "/" + test_name("single") + ":latest";
    request.tags = {ref};
    request.outputs = {OutputSpec::parse("type=registry")};
    export_all(request);
    EXPECT_EQ(run("skopeo inspect --raw --tls-verify=false docker://" + ref),
              request.images[0].manifest.bytes);
}

TEST_F(ExporterTest, MountsBaseLayersFromTheirSourceRepository) {
    REQUIRE_REGISTRY();
    // The seeded busybox amd64 image as the base: its layers stay in the registry.
    const Reference base =
        Reference::parse(env_->fault_proxy + "/" + env_->busybox_repo + ":" + env_->busybox_tag);
    const auto base_manifest_descriptor = registry_->resolve_platform(base, kAmd64);
    const auto base_manifest = parse_manifest(registry_
                                                  ->fetch_manifest(base.without_tag().with_digest(
                                                      base_manifest_descriptor.digest.to_string()))
                                                  .bytes);
    const auto base_config = parse_config(registry_->fetch_blob(base, base_manifest.config));
    std::vector<LayerRef> base_layers;
    for (std::size_t i = 0; i < base_manifest.layers.size(); ++i) {
        base_layers.push_back(LayerRef{base_manifest.layers[i], base_config.rootfs.diff_ids.at(i),
                                       base.without_tag().to_string()});
    }
    ExportRequest request;
    request.images.push_back(make_image(kAmd64, base_layers, base_config.rootfs.diff_ids));
    request.index = ImageIndex{}.to_raw();
    const std::string repo = env_->fault_proxy + "/" + test_name("mounted");
    request.tags = {repo + ":1"};
    request.outputs = {OutputSpec::parse("type=registry")};
    export_all(request);
    EXPECT_EQ(ensured_, 0);  // nothing fetched into the store
    EXPECT_EQ(run("skopeo inspect --raw --tls-verify=false docker://" + repo + ":1"),
              request.images[0].manifest.bytes);
    // The proxy saw a mount for each base layer and no upload of its bytes.
    const auto log = boost::json::parse(test::proxy_log(*env_)).as_array();
    for (const auto& layer : base_layers) {
        std::string encoded = layer.blob.digest.to_string();
        encoded.replace(encoded.find(':'), 1, "%3A");
        int mounts = 0;
        int uploads = 0;
        for (const auto& entry : log) {
            const std::string path(entry.at("path").as_string());
            if (path.find(test_name("mounted")) == std::string::npos ||
                path.find(encoded) == std::string::npos) {
                continue;
            }
            mounts += path.find("mount=" + encoded) != std::string::npos ? 1 : 0;
            uploads += entry.at("method").as_string() == "PUT" ? 1 : 0;
        }
        EXPECT_EQ(mounts, 1) << layer.blob.digest;
        EXPECT_EQ(uploads, 0) << layer.blob.digest;
    }
}

TEST_F(ExporterTest, RefusedPushKeepsTheOldTag) {
    REQUIRE_REGISTRY();
    const std::string name = test_name("refused");
    const std::string ref = env_->fault_proxy + "/" + name + ":latest";
    auto first = make_request({kAmd64});
    first.tags = {ref};
    first.outputs = {OutputSpec::parse("type=registry")};
    export_all(first);

    auto second = make_request({kArmV7});
    second.tags = first.tags;
    second.outputs = first.outputs;
    test::ScopedFault refuse(
        *env_, R"({"kind":"status","status":403,"method":"PUT","path":"^/v2/)" + name +
                   R"(/manifests/","count":-1})");
    EXPECT_THROW(export_all(second), Error);
    EXPECT_EQ(run("skopeo inspect --raw --tls-verify=false docker://" + env_->plain + "/" + name +
                  ":latest"),
              first.images[0].manifest.bytes);
}

}  // namespace
