// SPDX-License-Identifier: Apache-2.0
// The image side of the solver, offline: config-only instructions and the history BuildKit
// writes for them, cache records, history times, SOURCE_DATE_EPOCH, annotations, and the
// documents of a finished image.
#include "dockerfile/parser.hpp"
#include "dockerfile/plan.hpp"
#include "solver/base_images.hpp"
#include "solver/finalize.hpp"
#include "solver/image_state.hpp"
#include "solver/metadata.hpp"

#include <xarch/error.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <filesystem>

namespace xarch::solver {
namespace {

// The commands of a one-stage Dockerfile, expanded as the plan expands them.
std::vector<dockerfile::Command> commands(std::string_view text) {
    const dockerfile::ParseResult parsed = dockerfile::parse(text);
    dockerfile::PlanOptions options;
    options.platforms = {Platform::parse("linux/amd64")};
    const dockerfile::Plan plan = dockerfile::plan(parsed, options);
    std::vector<dockerfile::Command> out;
    for (const dockerfile::PlannedStep& step : plan.instances.back().steps) {
        out.push_back(step.command);
    }
    return out;
}

ImageState apply_all(std::string_view text) {
    ImageState state = scratch_state(Platform::parse("linux/amd64"));
    StageFlags flags;
    const dockerfile::ShellLex lex;
    const dockerfile::EnvList env;
    for (const dockerfile::Command& c : commands(text)) {
        if (c.get<dockerfile::WorkdirCommand>() != nullptr) {
            apply_workdir(state, c.get<dockerfile::WorkdirCommand>()->path);
            continue;
        }
        apply_metadata(state, c, flags, lex, env);
    }
    return state;
}

std::vector<std::string> created_by(const ImageState& state) {
    std::vector<std::string> out;
    for (const History& h : state.config.history) {
        out.push_back(h.created_by);
        EXPECT_TRUE(h.empty_layer) << h.created_by;
        EXPECT_EQ(h.comment, kHistoryComment);
    }
    return out;
}

TEST(Metadata, ScratchIsBuildKitsEmptyImage) {
    const ImageState s = scratch_state(Platform::parse("arm"));
    EXPECT_EQ(s.config.architecture, "arm");
    EXPECT_EQ(s.config.variant, "v7");
    EXPECT_EQ(s.config.os, "linux");
    EXPECT_EQ(s.config.config.working_dir, "/");
    EXPECT_EQ(s.config.config.env,
              std::vector<std::string>{
                  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"});
    EXPECT_NE(s.key, scratch_state(Platform::parse("arm64")).key);
}

TEST(Metadata, HistoryTextIsBuildKitsForEachInstruction) {
    const ImageState s = apply_all(
        "FROM scratch\n"
        "ENV A=1 B=\"two words\"\n"
        "LABEL x=y\n"
        "ARG V=3\n"
        "USER app\n"
        "EXPOSE 80 53/udp 8000-8001\n"
        "VOLUME /data /cache\n"
        "STOPSIGNAL SIGINT\n"
        "SHELL [\"/bin/bash\", \"-c\"]\n"
        "CMD echo $A\n"
        "ENTRYPOINT [\"/bin/app\", \"--flag\"]\n"
        "HEALTHCHECK --interval=30s --retries=3 CMD curl -f http://localhost/\n"
        "MAINTAINER someone\n"
        "ONBUILD COPY . /src\n");
    EXPECT_EQ(created_by(s),
              (std::vector<std::string>{
                  "ENV A=1 B=two words",
                  "LABEL x=y",
                  "ARG V=3",
                  "USER app",
                  "EXPOSE [53/udp 80/tcp 8000/tcp 8001/tcp]",
                  "VOLUME [/data /cache]",
                  "STOPSIGNAL SIGINT",
                  "SHELL [/bin/bash -c]",
                  "CMD [\"/bin/bash\" \"-c\" \"echo $A\"]",
                  "ENTRYPOINT [\"/bin/app\" \"--flag\"]",
                  "HEALTHCHECK {Test:[CMD-SHELL curl -f http://localhost/] Interval:30s "
                  "Timeout:0s StartPeriod:0s StartInterval:0s Retries:3}",
                  "MAINTAINER someone",
              }));
    const ContainerConfig& c = s.config.config;
    EXPECT_EQ(c.env[1], "A=1");
    EXPECT_EQ(c.env[2], "B=two words");
    EXPECT_EQ(c.labels.at("x"), "y");
    EXPECT_EQ(c.user, "app");
    EXPECT_EQ(c.exposed_ports, (std::set<std::string>{"53/udp", "80/tcp", "8000/tcp", "8001/tcp"}));
    EXPECT_EQ(c.volumes, (std::set<std::string>{"/cache", "/data"}));
    EXPECT_EQ(c.stop_signal, "SIGINT");
    // CMD came before ENTRYPOINT in the stage, so ENTRYPOINT keeps it.
    ASSERT_TRUE(c.cmd);
    EXPECT_EQ(c.cmd->front(), "/bin/bash");
    EXPECT_TRUE(c.args_escaped);
    EXPECT_EQ(*c.entrypoint, (std::vector<std::string>{"/bin/app", "--flag"}));
    ASSERT_TRUE(c.healthcheck);
    EXPECT_EQ(c.healthcheck->retries, 3);
    EXPECT_EQ(c.on_build, std::vector<std::string>{"COPY . /src"});
    EXPECT_EQ(s.config.author, "someone");
}

TEST(Metadata, EntrypointResetsAnInheritedCmd) {
    ImageState s = scratch_state(Platform::parse("linux/amd64"));
    s.config.config.cmd = std::vector<std::string>{"sh"};
    StageFlags flags;
    for (const dockerfile::Command& c : commands("FROM scratch\nENTRYPOINT [\"x\"]\n")) {
        apply_metadata(s, c, flags, dockerfile::ShellLex(), dockerfile::EnvList());
    }
    EXPECT_FALSE(s.config.config.cmd);
}

TEST(Metadata, EnvReplacesInPlace) {
    std::vector<std::string> env{"PATH=/bin", "A=1"};
    set_env(env, "PATH", "/x:/bin");
    set_env(env, "B", "2");
    EXPECT_EQ(env, (std::vector<std::string>{"PATH=/x:/bin", "A=1", "B=2"}));
}

TEST(Metadata, WorkdirIsCleanedAndRelativeToTheLastOne) {
    ImageState s = scratch_state(Platform::parse("linux/amd64"));
    EXPECT_EQ(apply_workdir(s, "/app/"), "/app");
    EXPECT_EQ(apply_workdir(s, "sub/../src"), "/app/src");
    EXPECT_EQ(apply_workdir(s, "/"), "/");
}

TEST(Metadata, BadInputIsAClearError) {
    const auto error = [](std::string_view text) {
        try {
            apply_all(text);
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    EXPECT_NE(error("FROM scratch\nEXPOSE 99999\n").find("99999"), std::string::npos);
    EXPECT_NE(error("FROM scratch\nSTOPSIGNAL SIGNOPE\n").find("SIGNOPE"), std::string::npos);
}

TEST(Records, RoundTripEverything) {
    ImageState s = apply_all("FROM scratch\nENV A=1\nLABEL b=c\n");
    LayerInfo layer;
    layer.blob = Descriptor::of(std::string(media_type::kOciLayerGzip), "layer bytes");
    layer.diff_id = Digest::of("tar bytes");
    layer.created = "2024-01-02T03:04:05Z";
    s.add_layer(layer, "COPY a /b # buildkit");
    LayerInfo base = layer;
    base.blob = Descriptor::of(std::string(media_type::kOciLayerGzip), "base");
    base.source_repository = "127.0.0.1:5000/library/busybox";
    s.layers.insert(s.layers.begin(), base);
    s.config.rootfs.diff_ids.insert(s.config.rootfs.diff_ids.begin(), base.diff_id);
    s.key = Digest::of("key");
    s.base_name = "127.0.0.1:5000/library/busybox:latest";
    s.base_digest = Digest::of("index");
    s.base_history = 1;
    const std::string record = to_record(s);
    EXPECT_EQ(from_record(record), s);
    // Only blobs that are local are listed for the cache to keep.
    const std::string blobs = boost::json::serialize(boost::json::parse(record).at("blobs"));
    EXPECT_EQ(blobs.find(base.blob.digest.to_string()), std::string::npos) << blobs;
    EXPECT_NE(blobs.find(layer.blob.digest.to_string()), std::string::npos) << blobs;
    EXPECT_THROW(from_record("{\"version\":1}"), Error);
    EXPECT_THROW(from_record("not json"), Error);
}

TEST(Finalize, TimesFollowBuildKitAndTheEpochClamps) {
    ImageState s = scratch_state(Platform::parse("linux/arm64"));
    History base_entry;
    base_entry.created = "2020-01-01T00:00:00Z";
    base_entry.created_by = "base";
    s.config.history.push_back(base_entry);
    s.base_history = 1;
    s.add_history("ENV A=1");
    LayerInfo layer;
    layer.blob = Descriptor::of(std::string(media_type::kOciLayerGzip), "l");
    layer.diff_id = Digest::of("t");
    layer.created = "2026-11-28T08:00:00.5Z";
    s.add_layer(layer, "COPY x /x # buildkit");
    s.add_history("CMD [\"x\"]");

    const std::filesystem::path dir =
        std::filesystem::path(::testing::TempDir()) / ("finalize_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    OciLayout store = OciLayout::create(dir);
    FinalImage image =
        finalize_image(s, Platform::parse("linux/arm64"), std::nullopt, {}, true, store);
    ImageConfig config = parse_config(image.config.bytes);
    // The ENV before the layer takes the layer's time; the CMD after it too.
    EXPECT_EQ(config.history[0].created, "2020-01-01T00:00:00Z");
    EXPECT_EQ(config.history[1].created, "2026-11-28T08:00:00.5Z");
    EXPECT_EQ(config.history[3].created, "2026-11-28T08:00:00.5Z");
    EXPECT_EQ(config.created, "2026-11-28T08:00:00.5Z");
    EXPECT_TRUE(store.has_blob(image.config.digest));
    EXPECT_TRUE(store.has_blob(image.manifest.digest));

    FinalImage clamped =
        finalize_image(s, Platform::parse("linux/arm64"), 1700000000, {}, true, store);
    config = parse_config(clamped.config.bytes);
    EXPECT_EQ(config.history[0].created, "2020-01-01T00:00:00Z");  // the base's stays
    EXPECT_EQ(config.history[2].created, "2023-11-14T22:13:20Z");
    EXPECT_EQ(config.created, "2023-11-14T22:13:20Z");
    std::filesystem::remove_all(dir);
}

TEST(Finalize, AnnotationsGoWhereTheirTypeSays) {
    const std::vector<BuildAnnotation> parsed = BuildAnnotation::parse("a=1");
    ASSERT_EQ(parsed.size(), 1U);
    EXPECT_EQ(parsed[0].target, BuildAnnotation::Target::kManifest);
    const auto two = BuildAnnotation::parse("index,manifest-descriptor[linux/arm64]:org.k=v:w");
    ASSERT_EQ(two.size(), 2U);
    EXPECT_EQ(two[0].target, BuildAnnotation::Target::kIndex);
    EXPECT_EQ(two[1].target, BuildAnnotation::Target::kManifestDescriptor);
    EXPECT_EQ(two[1].platform->to_string(), "linux/arm64");
    EXPECT_EQ(two[1].key, "org.k");
    EXPECT_EQ(two[1].value, "v:w");
    // A key with ':' but no known type before it is a plain manifest annotation.
    EXPECT_EQ(BuildAnnotation::parse("com.example:x=1")[0].key, "com.example:x");
    EXPECT_THROW(BuildAnnotation::parse("novalue"), Error);
    EXPECT_THROW(BuildAnnotation::parse("index:=v"), Error);

    std::vector<BuildAnnotation> all;
    for (const char* a : {"m=1", "index:i=2", "manifest-descriptor[linux/amd64]:d=3"}) {
        for (BuildAnnotation& b : BuildAnnotation::parse(a)) {
            all.push_back(std::move(b));
        }
    }
    const std::filesystem::path dir =
        std::filesystem::path(::testing::TempDir()) / ("annot_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    OciLayout store = OciLayout::create(dir);
    std::vector<FinalImage> images;
    for (const char* p : {"linux/amd64", "linux/arm64"}) {
        images.push_back(finalize_image(scratch_state(Platform::parse(p)), Platform::parse(p), 0,
                                        all, true, store));
    }
    EXPECT_EQ(parse_manifest(images[0].manifest.bytes).annotations.at("m"), "1");
    const ImageIndex index = parse_index(make_index(images, all, true, store).bytes);
    EXPECT_EQ(index.annotations.at("i"), "2");
    EXPECT_EQ(index.manifests[0].annotations.at("d"), "3");
    EXPECT_TRUE(index.manifests[1].annotations.empty());
    EXPECT_EQ(index.manifests[1].platform->to_string(), "linux/arm64");
    std::filesystem::remove_all(dir);
}

TEST(Finalize, TimeFormatIsGos) {
    using namespace std::chrono;
    EXPECT_EQ(format_epoch(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(format_time(system_clock::time_point(seconds(1) + nanoseconds(120000000))),
              "1970-01-01T00:00:01.12Z");
}

}  // namespace
}  // namespace xarch::solver
