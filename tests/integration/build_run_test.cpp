// SPDX-License-Identifier: Apache-2.0
// RUN end to end (issue 6's real checks): the seed's Dockerfile built for amd64, arm and arm64,
// pushed, pulled and run by the test dockerd; RUN in several stages with COPY --from; a failing
// RUN's buildx error; whiteouts of a RUN that deletes base files, read by tar and umoci; cache
// mounts across builds; secrets absent from every blob; the same build as an unprivileged user
// (which, until rootless RUN lands, must fail saying RUN needs root).
// Registers the arm64 and arm emulators when missing and removes what it registered afterwards.
#include "integration/build_support.hpp"
#include "integration/dockerd/dockerd_env.hpp"
#include "integration/registry/registry_env.hpp"
#include "integration/test_support.hpp"

#include <xarch/builder.hpp>
#include <xarch/emulators.hpp>
#include <xarch/error.hpp>
#include <xarch/image_index.hpp>

#include <grp.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>

namespace xarch {
namespace {

namespace fs = std::filesystem;
using test::error_of;
using test::read_file;
using test::run;
using test::write_file;

using test::contains;
using test::Events;
using test::kSeedPlatforms;
using test::lines_of;
using test::quote;
using test::SeedPlatform;

// An OCI layout written by type=oci,tar=false: its single image's manifest and blob paths.
struct LayoutImage {
    Manifest manifest;
    std::string ref_name;  // org.opencontainers.image.ref.name of the index entry ("" if none)
    fs::path config_blob;
    std::vector<fs::path> layer_blobs;
};

fs::path blob_path(const fs::path& layout, const Digest& digest) {
    return layout / "blobs" / std::string(digest.algorithm()) / std::string(digest.hex());
}

LayoutImage read_layout(const fs::path& layout) {
    const ImageIndex index = parse_index(read_file(layout / "index.json"));
    EXPECT_EQ(index.manifests.size(), 1U);
    if (index.manifests.empty()) {
        return {};
    }
    LayoutImage image;
    const Descriptor& entry = index.manifests.front();
    const auto name = entry.annotations.find("org.opencontainers.image.ref.name");
    image.ref_name = name == entry.annotations.end() ? "" : name->second;
    image.manifest = parse_manifest(read_file(blob_path(layout, entry.digest)));
    image.config_blob = blob_path(layout, image.manifest.config.digest);
    for (const Descriptor& layer : image.manifest.layers) {
        image.layer_blobs.push_back(blob_path(layout, layer.digest));
    }
    return image;
}

// The entry names of a layer blob (any compression GNU tar reads), without a leading "./".
std::vector<std::string> tar_names(const fs::path& blob) {
    std::vector<std::string> names;
    for (std::string line : lines_of(run("tar -tf " + quote(blob.string())))) {
        if (line.starts_with("./")) {
            line.erase(0, 2);
        }
        if (!line.empty()) {
            names.push_back(line);
        }
    }
    return names;
}

class BuildRunTest : public testing::Test {
protected:
    // The foreign platforms' emulators, registered once for the suite when missing (as root).
    static void SetUpTestSuite() { test::ForeignEmulators::register_missing(); }
    static void TearDownTestSuite() { test::ForeignEmulators::remove_registered(); }

    void SetUp() override {
        std::string why;
        auto env = test::load_registry_env(&why);
        if (!env) {
            GTEST_SKIP() << why;
        }
        env_ = std::move(*env);
        base_ = env_.plain + "/" + env_.busybox_repo + ":" + env_.busybox_tag;
        root_ = test::fresh_test_dir("build_run_test");
        cache_dir_ = root_ / "cache";
    }

    void TearDown() override {
        if (!root_.empty() && !HasFailure()) {
            fs::remove_all(root_);
        }
    }

    fs::path make_context(std::string_view dockerfile) {
        const fs::path ctx = root_ / "ctx";
        write_file(ctx / "Dockerfile", dockerfile);
        return ctx;
    }

    BuildResult build(const fs::path& ctx,
                      BuildOptions options,
                      Events* events = nullptr,
                      const std::function<void(BuildContext&)>& setup = {},
                      Snapshotter snapshotter = Snapshotter::kAuto) {
        BuilderOptions builder_options;
        builder_options.cache_dir = cache_dir_;
        builder_options.snapshotter = snapshotter;
        Builder builder(std::move(builder_options));
        BuildContext context = BuildContext::from_directory(ctx);
        if (setup) {
            setup(context);
        }
        if (events != nullptr) {
            options.progress = events->callback();
        }
        return builder.build(context, options);
    }

    static BuildOptions options_for(std::initializer_list<const char*> platforms) {
        BuildOptions options;
        for (const char* p : platforms) {
            options.platforms.push_back(Platform::parse(p));
        }
        return options;
    }

    // One platform's image as an OCI layout directory.
    BuildOptions layout_options(const fs::path& layout, const char* platform = "linux/amd64") {
        BuildOptions options = options_for({platform});
        options.tags = {"mytest/build-run:v1"};
        options.outputs.push_back(OutputSpec::parse("type=oci,tar=false,dest=" + layout.string()));
        return options;
    }

    test::RegistryEnv env_;
    std::string base_;
    fs::path root_;
    fs::path cache_dir_;
};

TEST_F(BuildRunTest, SeedThreePlatforms) {
    XARCH_REQUIRE_FOREIGN();
    // The seed's Dockerfile byte for byte, only the base image's registry host changed.
    const fs::path ctx = make_context(test::seed_dockerfile(XARCH_SEED_DOCKERFILE, base_));

    const std::string image = env_.plain + "/mytest/build-run-seed:v1";
    BuildOptions options = options_for({"amd64", "arm", "arm64"});
    options.tags = {image};
    options.outputs.push_back(OutputSpec::parse("type=registry"));
    Events events;
    const BuildResult result = build(ctx, options, &events);
    ASSERT_EQ(result.images.size(), 3U);

    // Each platform's RUN step as buildx names it (the build args expanded), with its one log
    // line.
    for (const SeedPlatform& p : kSeedPlatforms) {
        const std::string step = std::string("[") + p.platform +
                                 " 2/2] RUN echo \"I'm building for " + p.targetarch + "\"";
        EXPECT_TRUE(contains(events.started(), step)) << step;
        EXPECT_EQ(events.logs(step),
                  std::vector<std::string>{std::string("I'm building for ") + p.targetarch})
            << step;
    }

    // skopeo reads the three-platform index.
    const std::string raw = run("skopeo inspect --raw --tls-verify=false docker://" + image);
    const ImageIndex index = parse_index(raw);
    EXPECT_EQ(Digest::of(raw), result.descriptor.digest);
    std::vector<std::string> platforms;
    for (const Descriptor& d : index.manifests) {
        ASSERT_TRUE(d.platform);
        platforms.push_back(d.platform->to_string());
    }
    std::sort(platforms.begin(), platforms.end());
    EXPECT_EQ(platforms, (std::vector<std::string>{"linux/amd64", "linux/arm/v7", "linux/arm64"}));

    // The Docker Engine pulls each platform from the registry and runs it.
    std::string why;
    const std::string host = test::test_docker_host(XARCH_TEST_DOCKERD_ENV, &why);
    if (host.empty()) {
        GTEST_SKIP() << "the engine checks: " << why;
    }
    const std::string docker = "DOCKER_HOST=" + host + " docker ";
    for (const SeedPlatform& p : kSeedPlatforms) {
        run(docker + "pull --platform " + p.platform + " " + image);
        EXPECT_EQ(run(docker + "run --rm --network none --platform " + p.platform + " " + image +
                      " uname -m"),
                  std::string(p.machine) + "\n")
            << p.platform;
    }
    run(docker + "rmi -f " + image);
}

TEST_F(BuildRunTest, MultiStageRunAndCopyFrom) {
    XARCH_REQUIRE_FOREIGN();
    // Applets by path: under Debian's QEMU, busybox's shell cannot re-execute itself through
    // /proc/self/exe to run an applet by name.
    const fs::path ctx =
        make_context("FROM " + base_ +
                     " AS build\n"
                     "ARG TARGETARCH\n"
                     "RUN /bin/mkdir -p /out && echo \"built for $TARGETARCH\" > /out/arch.txt && "
                     "/bin/uname -m > /out/machine.txt\n"
                     "FROM " +
                     base_ +
                     "\n"
                     "COPY --from=build /out/ /srv/\n"
                     "RUN /bin/cat /srv/arch.txt /srv/machine.txt > /srv/both.txt && "
                     "echo second >> /srv/both.txt\n");
    BuildOptions options = options_for({"linux/amd64", "linux/arm64"});
    options.outputs.push_back(OutputSpec::parse("type=local,dest=" + (root_ / "out").string()));
    build(ctx, options);

    struct Expected {
        const char* dir;
        const char* arch;
        const char* machine;
    };
    for (const auto& [dir, arch, machine] : {Expected{"linux_amd64", "amd64", "x86_64"},
                                             Expected{"linux_arm64", "arm64", "aarch64"}}) {
        const fs::path out = root_ / "out" / dir;
        EXPECT_EQ(read_file(out / "srv/arch.txt"), std::string("built for ") + arch + "\n");
        EXPECT_EQ(read_file(out / "srv/machine.txt"), std::string(machine) + "\n");
        EXPECT_EQ(read_file(out / "srv/both.txt"),
                  std::string("built for ") + arch + "\n" + machine + "\nsecond\n");
        // The first stage's own files stay there: only what COPY --from took comes across.
        EXPECT_FALSE(fs::exists(out / "out")) << dir;
        EXPECT_TRUE(fs::exists(out / "bin/busybox")) << dir;
    }
}

TEST_F(BuildRunTest, FailingRunGivesBuildxError) {
    const fs::path ctx = make_context("FROM " + base_ + "\nRUN echo out; exit 3\n");
    Events events;
    const std::string message =
        error_of([&] { build(ctx, options_for({"linux/amd64"}), &events); });
    EXPECT_NE(message.find("process \"/bin/sh -c echo out; exit 3\" did not complete "
                           "successfully: exit code: 3"),
              std::string::npos)
        << message;
    EXPECT_TRUE(contains(events.logs("RUN echo out; exit 3"), "out")) << events.all_text();

    // A BuildError: the step as the events name it, its platform, the exit code and its line.
    Events again;
    try {
        build(ctx, options_for({"linux/amd64"}), &again);
        ADD_FAILURE() << "the build did not fail";
    } catch (const BuildError& e) {
        EXPECT_EQ(e.code(), ErrorCode::kBuildFailed);
        EXPECT_EQ(std::string(e.what()), message);
        EXPECT_EQ(again.step_names(ProgressEvent::Kind::kVertexError),
                  std::vector<std::string>{e.step()});
        EXPECT_TRUE(e.step().ends_with("RUN echo out; exit 3")) << e.step();
        EXPECT_EQ(e.platform(), "linux/amd64");
        EXPECT_EQ(e.exit_code(), 3);
        EXPECT_EQ(e.start_line(), 2);
        EXPECT_EQ(e.file(), "Dockerfile");
        EXPECT_NE(std::find(e.last_lines().begin(), e.last_lines().end(), "out"),
                  e.last_lines().end());
    }
}

TEST_F(BuildRunTest, RunDeletingBaseFilesWritesWhiteouts) {
    // busybox's applets are symlinks in /bin of the base image: remove one.
    const fs::path ctx = make_context("FROM " + base_ + "\nRUN rm /bin/ls\n");
    const fs::path layout = root_ / "layout";
    build(ctx, layout_options(layout));

    const LayoutImage image = read_layout(layout);
    ASSERT_GE(image.layer_blobs.size(), 2U);
    const std::vector<std::string> names = tar_names(image.layer_blobs.back());
    EXPECT_TRUE(contains(names, "bin/.wh.ls")) << testing::PrintToString(names);
    EXPECT_FALSE(contains(names, "bin/busybox")) << testing::PrintToString(names);
    EXPECT_FALSE(contains(names, "bin/ls")) << testing::PrintToString(names);

    // umoci applies the whiteout: ls is gone, its neighbours are not.
    ASSERT_FALSE(image.ref_name.empty());
    const fs::path bundle = root_ / "bundle";
    run("umoci unpack --rootless --image " + quote(layout.string() + ":" + image.ref_name) + " " +
        quote(bundle.string()));
    EXPECT_FALSE(fs::exists(fs::symlink_status(bundle / "rootfs/bin/ls")));
    EXPECT_TRUE(fs::exists(fs::symlink_status(bundle / "rootfs/bin/cat")));
    EXPECT_TRUE(fs::exists(bundle / "rootfs/bin/busybox"));
}

TEST_F(BuildRunTest, CopySnapshotterGivesTheOverlayLayer) {
    // Adds, changes, deletes a file and a whole directory, hard links: the native (copy)
    // snapshotter's tree diff and the overlayfs upper dir make the same layer.
    const fs::path ctx = make_context(
        "FROM " + base_ +
        "\nRUN mkdir -p /srv/a/b && echo one > /srv/a/b/f && ln /srv/a/b/f /srv/a/link && "
        "ln -s b/f /srv/a/sym && chmod 0700 /srv/a && rm -rf /bin && mkdir /bin\n");
    std::vector<std::string> listings;
    for (const Snapshotter snapshotter : {Snapshotter::kOverlayfs, Snapshotter::kNative}) {
        const fs::path layout =
            root_ / (snapshotter == Snapshotter::kNative ? "native" : "overlayfs");
        BuildOptions options = layout_options(layout);
        options.no_cache = true;
        options.source_date_epoch = 1700000000;  // the same times either way
        build(ctx, options, nullptr, {}, snapshotter);
        const LayoutImage image = read_layout(layout);
        ASSERT_EQ(image.layer_blobs.size(), 2U);
        listings.push_back(run("tar -tvzf " + quote(image.layer_blobs.back().string())));
    }
    EXPECT_NE(listings[0].find("bin/.wh.busybox"), std::string::npos) << listings[0];
    EXPECT_NE(listings[0].find("srv/a/link link to srv/a/b/f"), std::string::npos) << listings[0];
    EXPECT_EQ(listings[0], listings[1]);
}

TEST_F(BuildRunTest, BindMountsShowTheKeptContextAndDiscardWrites) {
    const fs::path ctx = make_context(
        "FROM " + base_ +
        "\nRUN --mount=type=bind,target=/ctx,rw echo changed > /ctx/kept.txt && /bin/cat "
        "/ctx/kept.txt\n"
        "RUN --mount=type=bind,target=/ctx /bin/cat /ctx/kept.txt; /bin/ls /ctx\n");
    write_file(ctx / "kept.txt", "original\n");
    write_file(ctx / "ignored.txt", "not sent\n");
    write_file(ctx / ".dockerignore", "ignored.txt\n");
    Events events;
    const fs::path out = root_ / "out";
    BuildOptions options = options_for({"linux/amd64"});
    options.outputs.push_back(OutputSpec::parse("type=local,dest=" + out.string()));
    build(ctx, options, &events);

    std::vector<std::string> logs;
    for (const ProgressEvent& e : events.all) {
        if (e.kind == ProgressEvent::Kind::kLog) {
            logs.push_back(e.message);
        }
    }
    // The first RUN saw its own write; the second the context as sent, without ignored files
    // (ls leaves out .dockerignore, a dotfile).
    EXPECT_EQ(logs, (std::vector<std::string>{"changed", "original", "Dockerfile", "kept.txt"}));
    EXPECT_EQ(read_file(ctx / "kept.txt"), "original\n");  // the user's file is untouched
    EXPECT_FALSE(fs::exists(out / "ctx"));                 // the mount point went again
}

// Whether a process whose command line is exactly `argv` (NULs between words) runs on the host.
bool process_running(const std::string& argv) {
    for (const fs::directory_entry& e : fs::directory_iterator("/proc")) {
        const std::string name = e.path().filename().string();
        if (std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
            read_file(e.path() / "cmdline") == argv) {
            return true;
        }
    }
    return false;
}

TEST_F(BuildRunTest, CancelKillsTheRunningProcessTree) {
    // The RUN starts a background sleep and waits on another: cancel must take both down.
    const fs::path ctx =
        make_context("FROM " + base_ + "\nRUN /bin/sleep 417 & /bin/sleep 418; echo not-reached\n");
    BuilderOptions builder_options;
    builder_options.cache_dir = cache_dir_;
    Builder builder(std::move(builder_options));
    BuildContext context = BuildContext::from_directory(ctx);
    BuildOptions options = options_for({"linux/amd64"});
    std::thread canceller;
    options.progress = [&](const ProgressEvent& e) {
        if (e.kind == ProgressEvent::Kind::kVertexStarted &&
            e.name.find("RUN /bin/sleep") != std::string::npos && !canceller.joinable()) {
            // Give the shell time to start both sleeps; the build cannot finish on its own.
            canceller = std::thread([&builder] {
                std::this_thread::sleep_for(std::chrono::milliseconds(500));
                builder.cancel();
            });
        }
    };
    try {
        builder.build(context, options);
        ADD_FAILURE() << "the build was not cancelled";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kCancelled) << e.what();
    }
    ASSERT_TRUE(canceller.joinable());
    canceller.join();
    EXPECT_FALSE(process_running(std::string("/bin/sleep\0417\0", 15)));
    EXPECT_FALSE(process_running(std::string("/bin/sleep\0418\0", 15)));
}

TEST_F(BuildRunTest, CacheMountReusedAcrossBuilds) {
    const std::string step =
        "RUN --mount=type=cache,target=/c sh -c 'cat /c/n 2>/dev/null; echo x >> /c/n'";
    const fs::path ctx = make_context("FROM " + base_ + "\n" + step + "\n");
    const fs::path layout = root_ / "layout";
    BuildOptions options = layout_options(layout);
    options.no_cache = true;

    Events first;
    build(ctx, options, &first);
    EXPECT_EQ(first.logs("--mount=type=cache"), std::vector<std::string>{}) << first.all_text();
    Events second;
    build(ctx, options, &second);
    // The second run reads what the first wrote into the cache mount.
    EXPECT_EQ(second.logs("--mount=type=cache"), std::vector<std::string>{"x"})
        << second.all_text();
    Events third;
    build(ctx, options, &third);
    EXPECT_EQ(third.logs("--mount=type=cache"), (std::vector<std::string>{"x", "x"}))
        << third.all_text();

    // The mount and its mount point are in no layer.
    const LayoutImage image = read_layout(layout);
    ASSERT_FALSE(image.layer_blobs.empty());
    for (const fs::path& blob : image.layer_blobs) {
        for (const std::string& name : tar_names(blob)) {
            EXPECT_FALSE(name == "c" || name.starts_with("c/")) << name << " in " << blob;
        }
    }
}

TEST_F(BuildRunTest, SecretNeverInLayers) {
    std::random_device random;
    const std::string value =
        "xarch-test-secret-" + std::to_string(random()) + "-" + std::to_string(random());
    const fs::path secret_file = root_ / "secret.txt";
    write_file(secret_file, value);
    // sha256sum proves the secret was there without printing it.
    const fs::path ctx =
        make_context("FROM " + base_ +
                     "\nRUN --mount=type=secret,id=tok cat /run/secrets/tok > /dev/null && "
                     "sha256sum /run/secrets/tok\n");
    const fs::path layout = root_ / "layout";
    Events events;
    build(ctx, layout_options(layout), &events,
          [&](BuildContext& context) { context.add_secret("id=tok,src=" + secret_file.string()); });
    EXPECT_TRUE(contains(events.logs("--mount=type=secret"),
                         std::string(Digest::of(value).hex()) + "  /run/secrets/tok"))
        << events.all_text();
    EXPECT_EQ(events.all_text().find(value), std::string::npos);

    // Every blob of the layout (layers decompressed, config, manifest) and index.json.
    std::size_t blobs = 0;
    for (const auto& entry : fs::recursive_directory_iterator(layout)) {
        if (!entry.is_regular_file()) {
            continue;
        }
        ++blobs;
        const std::string content = run("zcat -f " + quote(entry.path().string()));
        EXPECT_EQ(content.find(value), std::string::npos) << entry.path();
    }
    EXPECT_GE(blobs, 4U);
    const LayoutImage image = read_layout(layout);
    for (const fs::path& blob : image.layer_blobs) {
        for (const std::string& name : tar_names(blob)) {
            EXPECT_FALSE(name.starts_with("run/")) << name << " in " << blob;
        }
    }
}

TEST_F(BuildRunTest, RootlessAsUnprivilegedUser) {
    // The same build as an unprivileged user: RUN in a user namespace mapping the caller to root,
    // overlayfs with userxattr. The build runs in a child process that drops to nobody (as root)
    // or is already unprivileged; the parent reads what it wrote.
    const fs::path ctx = make_context(
        "FROM " + base_ + "\nRUN echo rootless > /r.txt && /bin/id -u && /bin/rm /bin/ls\n");
    const fs::path layout = root_ / "layout";
    fs::create_directories(root_ / "docker-config");
    if (::geteuid() == 0) {
        run("chown -R 65534:65534 " + quote(root_.string()));
    }
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(pipe_fds[0]);
        ::alarm(300);  // never outlive the test
        std::string report;
        try {
            if (::geteuid() == 0 &&
                (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
                 ::setresuid(65534, 65534, 65534) != 0)) {
                report = "cannot become nobody";
            } else {
                // A process that dropped root without exec is not dumpable, and then its
                // children's /proc files (uid_map) are root's: a user who started xarch as
                // themselves never is.
                ::prctl(PR_SET_DUMPABLE, 1);
                // Root's docker config is not nobody's to read.
                ::setenv("DOCKER_CONFIG", (root_ / "docker-config").c_str(), 1);
                ::setenv("HOME", root_.c_str(), 1);
                Events events;
                build(ctx, layout_options(layout), &events);
                for (const ProgressEvent& e : events.all) {
                    if (e.kind == ProgressEvent::Kind::kLog) {
                        report += e.message + "\n";
                    }
                }
            }
        } catch (const std::exception& e) {
            report = std::string("build failed: ") + e.what();
        }
        const ssize_t written = ::write(pipe_fds[1], report.data(), report.size());
        ::_exit(written == static_cast<ssize_t>(report.size()) ? 0 : 1);
    }
    ::close(pipe_fds[1]);
    std::string report;
    char buffer[4096];
    for (ssize_t n = 0; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) {
        report.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(pipe_fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    // Inside, the command ran as root.
    ASSERT_EQ(report, "0\n");

    // The layer holds what the command wrote, owned by root as the container saw it, and the
    // whiteout of what it removed.
    const LayoutImage image = read_layout(layout);
    ASSERT_EQ(image.layer_blobs.size(), 2U);
    const std::string listing = run("tar -tvzf " + quote(image.layer_blobs.back().string()));
    std::string r_line;
    for (const std::string& line : lines_of(listing)) {
        if (line.ends_with(" r.txt")) {
            r_line = line;
        }
    }
    EXPECT_TRUE(r_line.starts_with("-rw-r--r-- 0/0 ")) << listing;
    EXPECT_NE(r_line.find(" 9 "), std::string::npos) << listing;  // "rootless\n"
    EXPECT_NE(listing.find(" bin/.wh.ls\n"), std::string::npos) << listing;
}

}  // namespace
}  // namespace xarch
