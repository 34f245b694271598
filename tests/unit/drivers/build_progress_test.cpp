// SPDX-License-Identifier: Apache-2.0
// BuildProgress and PushProgress fed with answers recorded from dockerd 20.10 (data/*.jsonl:
// an arm64 build pulling its base and failing in its last RUN, the same Dockerfile built again
// from the cache with a new step writing to stdout and stderr, a missing base image, and the
// push of the result): the step vertexes, logs, statuses, warnings, image id, failure message
// and pushed digest.
#include "drivers/docker/build_progress.hpp"

#include "drivers/docker/push.hpp"

#include <xarch/error.hpp>
#include <xarch/platform.hpp>
#include <xarch/progress.hpp>
#include <xarch/reference.hpp>

#include <boost/json/parse.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace xarch::drivers::docker {
namespace {

using Kind = ProgressEvent::Kind;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<boost::json::object> load(const std::string& name) {
    std::ifstream in(std::string(XARCH_DRIVERS_TEST_DATA) + "/" + name);
    EXPECT_TRUE(in) << name;
    std::vector<boost::json::object> messages;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty()) {
            messages.push_back(boost::json::parse(line).as_object());
        }
    }
    return messages;
}

// The "aux.ID" of a recorded answer, found independently of BuildProgress.
std::string recorded_image_id(const std::vector<boost::json::object>& messages) {
    for (const boost::json::object& m : messages) {
        if (const auto* aux = m.if_contains("aux")) {
            if (const auto* id = aux->as_object().if_contains("ID")) {
                return std::string(id->as_string());
            }
        }
    }
    return {};
}

struct Recorder {
    std::vector<ProgressEvent> events;

    ProgressCallback callback() {
        return [this](const ProgressEvent& e) { events.push_back(e); };
    }
    std::vector<std::string> names(Kind kind) const {
        std::vector<std::string> out;
        for (const ProgressEvent& e : events) {
            if (e.kind == kind) {
                out.push_back(e.name);
            }
        }
        return out;
    }
    std::vector<std::string> logs(std::string_view name) const {
        std::vector<std::string> out;
        for (const ProgressEvent& e : events) {
            if (e.kind == Kind::kLog && e.name == name) {
                out.push_back(e.message);
            }
        }
        return out;
    }
    std::vector<const ProgressEvent*> of(Kind kind) const {
        std::vector<const ProgressEvent*> out;
        for (const ProgressEvent& e : events) {
            if (e.kind == kind) {
                out.push_back(&e);
            }
        }
        return out;
    }
};

const Platform kArm64 = Platform::parse("linux/arm64");

TEST(BuildProgress, CachedBuildWithOutput) {
    const std::vector<boost::json::object> messages = load("build_ok.jsonl");
    Recorder rec;
    BuildProgress progress("node0", kArm64, rec.callback());
    for (const boost::json::object& m : messages) {
        progress.on_message(m);
    }
    progress.finish();
    EXPECT_FALSE(progress.failed());
    ASSERT_FALSE(recorded_image_id(messages).empty());
    EXPECT_EQ(progress.image_id(), recorded_image_id(messages));

    const std::string from = "[linux/arm64 1/5] FROM 127.0.0.1:44935/library/busybox:latest";
    const std::string run = "[linux/arm64 5/5] RUN /bin/cat /a.txt; echo warn >&2";
    EXPECT_THAT(rec.names(Kind::kVertexStarted), ElementsAre(from, run));
    EXPECT_THAT(rec.names(Kind::kVertexCached),
                ElementsAre("[linux/arm64 2/5] ARG TARGETARCH",
                            "[linux/arm64 3/5] RUN echo \"I am building for $TARGETARCH\"",
                            "[linux/arm64 4/5] COPY a.txt /a.txt"));
    EXPECT_THAT(rec.names(Kind::kVertexCompleted), ElementsAre(from, run));
    // stdout and stderr lines, the colour codes around stderr gone; no bookkeeping lines.
    EXPECT_THAT(rec.logs(run), ElementsAre("hello", "warn"));
    EXPECT_THAT(
        rec.logs(from),
        ElementsAre(
            "latest: Pulling from library/busybox",
            "Digest: sha256:171c758c772c569be15c59ee781a2d40b90aad988c9a15a8e10f37d2fcf8f828",
            "Status: Image is up to date for 127.0.0.1:44935/library/busybox:latest"));
    // The engine's "[Warning] The requested image's platform (linux/arm64) does not match the
    // detected host platform" is in the recording: the build asked for that platform, so it is
    // not passed on (buildx shows none).
    EXPECT_TRUE(rec.of(Kind::kWarning).empty());
    EXPECT_TRUE(rec.of(Kind::kVertexError).empty());

    // Vertex ids: one per step, the same for every event of a step, stable across builds.
    std::map<std::string, std::set<std::string>> ids;
    for (const ProgressEvent& e : rec.events) {
        if (!e.name.empty()) {
            ids[e.name].insert(e.vertex);
        }
    }
    for (const auto& [name, vertexes] : ids) {
        EXPECT_EQ(vertexes.size(), 1U) << name;
    }
    EXPECT_EQ(*ids[run].begin(), "docker:node0:linux/arm64:step:5");
}

TEST(BuildProgress, FailingRunAfterPull) {
    const std::vector<boost::json::object> messages = load("build_fail.jsonl");
    Recorder rec;
    BuildProgress progress("node0", kArm64, rec.callback());
    progress.context_sent(1024, false);
    progress.context_sent(2048, true);
    for (const boost::json::object& m : messages) {
        progress.on_message(m);
    }
    ASSERT_TRUE(progress.failed());
    const std::string failing = "[linux/arm64 4/4] RUN echo out1; echo out2; exit 3";
    const std::string expected =
        "node \"node0\" (linux/arm64): step 4/4 `RUN echo out1; echo out2; exit 3` failed: The "
        "command "
        "'/bin/sh -c echo out1; echo out2; exit 3' returned a non-zero code: 3\nout1\nout2";
    try {
        progress.finish();
        FAIL() << "finish() did not throw";
    } catch (const BuildError& e) {
        // A RUN that exited non-zero: the step as the events name it, its platform, the exit
        // code the engine's text gives and the step's last lines.
        EXPECT_EQ(e.code(), ErrorCode::kBuildFailed);
        EXPECT_EQ(std::string(e.what()), expected);
        EXPECT_EQ(e.step(), failing);
        EXPECT_EQ(e.platform(), "linux/arm64");
        EXPECT_EQ(e.exit_code(), 3);
        EXPECT_THAT(e.last_lines(), ElementsAre("out1", "out2"));
        EXPECT_EQ(e.start_line(), 0);
    }
    EXPECT_EQ(progress.failure(), expected);

    // The context upload first, then the four steps; the failing one ends in kVertexError.
    EXPECT_THAT(
        rec.names(Kind::kVertexStarted),
        ElementsAre("[linux/arm64] load build context",
                    "[linux/arm64 1/4] FROM 127.0.0.1:44935/library/busybox:latest",
                    "[linux/arm64 2/4] ARG TARGETARCH",
                    "[linux/arm64 3/4] RUN echo \"I am building for $TARGETARCH\"", failing));
    EXPECT_EQ(rec.names(Kind::kVertexCompleted).size(), 4U);
    const auto errors = rec.of(Kind::kVertexError);
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_EQ(errors[0]->name, failing);
    EXPECT_EQ(errors[0]->message,
              "The command '/bin/sh -c echo out1; echo out2; exit 3' returned a non-zero code: 3");
    EXPECT_THAT(rec.logs("[linux/arm64 3/4] RUN echo \"I am building for $TARGETARCH\""),
                ElementsAre("I am building for arm64"));
    EXPECT_THAT(rec.logs(failing), ElementsAre("out1", "out2"));

    // The base layer's download and extraction as statuses of the FROM step, each completed
    // once with the layer's size.
    std::map<std::string, std::vector<const ProgressEvent*>> statuses;
    for (const ProgressEvent* e : rec.of(Kind::kStatus)) {
        statuses[e->id].push_back(e);
    }
    ASSERT_TRUE(statuses.contains("62e1066491e9"));
    ASSERT_TRUE(statuses.contains("extracting 62e1066491e9"));
    for (const char* id : {"62e1066491e9", "extracting 62e1066491e9"}) {
        const auto& list = statuses[id];
        EXPECT_EQ(list.front()->name,
                  "[linux/arm64 1/4] FROM 127.0.0.1:44935/library/busybox:latest");
        EXPECT_TRUE(list.back()->completed) << id;
        EXPECT_EQ(list.back()->current, 1040367) << id;
        EXPECT_EQ(list.back()->total, 1040367) << id;
        EXPECT_EQ(std::count_if(list.begin(), list.end(),
                                [](const ProgressEvent* e) { return e->completed; }),
                  1)
            << id;
    }
    ASSERT_TRUE(statuses.contains("transferring context"));
    EXPECT_EQ(statuses["transferring context"].back()->current, 2048);
    EXPECT_TRUE(statuses["transferring context"].back()->completed);
}

TEST(BuildProgress, MissingBaseImage) {
    Recorder rec;
    BuildProgress progress("", kArm64, rec.callback());
    for (const boost::json::object& m : load("build_missing_base.jsonl")) {
        progress.on_message(m);
    }
    // Only a RUN that ran and failed is a BuildError; a missing base stays an I/O error.
    try {
        progress.finish();
        ADD_FAILURE() << "finish() did not throw";
    } catch (const BuildError& e) {
        ADD_FAILURE() << "a missing base is not a BuildError: " << e.what();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kIo);
    }
    EXPECT_EQ(progress.failure(),
              "linux/arm64: step 1/2 `FROM 127.0.0.1:44935/mytest/nothere:v1` failed: manifest "
              "for 127.0.0.1:44935/mytest/nothere:v1 not found: manifest unknown: manifest "
              "unknown");
    EXPECT_EQ(rec.of(Kind::kVertexError).size(), 1U);
}

// The same answer with every "stream" text cut in two: lines are put together again.
TEST(BuildProgress, StreamTextSplitAnywhere) {
    const std::vector<boost::json::object> messages = load("build_ok.jsonl");
    Recorder whole;
    BuildProgress a("n", kArm64, whole.callback());
    for (const boost::json::object& m : messages) {
        a.on_message(m);
    }
    a.finish();
    for (std::size_t cut : {std::size_t{1}, std::size_t{3}, std::size_t{8}}) {
        Recorder split;
        BuildProgress b("n", kArm64, split.callback());
        for (const boost::json::object& m : messages) {
            const auto* stream = m.if_contains("stream");
            if (stream == nullptr || stream->as_string().size() <= cut) {
                b.on_message(m);
                continue;
            }
            const std::string text(stream->as_string());
            b.on_message(boost::json::object{{"stream", text.substr(0, cut)}});
            b.on_message(boost::json::object{{"stream", text.substr(cut)}});
        }
        b.finish();
        ASSERT_EQ(split.events.size(), whole.events.size()) << cut;
        for (std::size_t i = 0; i < whole.events.size(); ++i) {
            EXPECT_EQ(split.events[i].kind, whole.events[i].kind) << cut << " " << i;
            EXPECT_EQ(split.events[i].name, whole.events[i].name) << cut << " " << i;
            EXPECT_EQ(split.events[i].message, whole.events[i].message) << cut << " " << i;
        }
    }
}

TEST(BuildProgress, AbortMarksTheOpenStep) {
    Recorder rec;
    BuildProgress progress("n", kArm64, rec.callback());
    const std::vector<boost::json::object> messages = load("build_fail.jsonl");
    // Up to the output of the failing step, then the connection is lost.
    for (const boost::json::object& m : messages) {
        if (m.contains("errorDetail")) {
            break;
        }
        progress.on_message(m);
    }
    progress.abort("cancelled");
    const auto errors = rec.of(Kind::kVertexError);
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_EQ(errors[0]->name, "[linux/arm64 4/4] RUN echo out1; echo out2; exit 3");
    EXPECT_EQ(errors[0]->message, "cancelled");
}

TEST(BuildProgress, NoImageIdIsAnError) {
    BuildProgress progress("n", kArm64, {});
    progress.on_message(boost::json::object{{"stream", "Step 1/1 : FROM scratch\n"}});
    try {
        progress.finish();
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kIo);
        EXPECT_THAT(e.what(), HasSubstr("node \"n\" (linux/arm64): "));
        EXPECT_THAT(e.what(), HasSubstr("without giving an image id"));
    }
}

TEST(PushProgress, RecordedPush) {
    const std::vector<boost::json::object> messages = load("push.jsonl");
    Recorder rec;
    const Reference ref = Reference::parse("127.0.0.1:44935/mytest/d2:arm64");
    PushProgress progress(ref, "node0", rec.callback());
    for (const boost::json::object& m : messages) {
        progress.on_message(m);
    }
    const PushedManifest pushed = progress.finish();
    // The digest and size of the last message's aux, read independently.
    const boost::json::object& aux = messages.back().at("aux").as_object();
    EXPECT_EQ(pushed.digest.to_string(), std::string(aux.at("Digest").as_string()));
    EXPECT_EQ(pushed.size, aux.at("Size").as_int64());

    const std::string name = "pushing 127.0.0.1:44935/mytest/d2:arm64 from node0";
    EXPECT_THAT(rec.names(Kind::kVertexStarted), ElementsAre(name));
    EXPECT_THAT(rec.names(Kind::kVertexCompleted), ElementsAre(name));
    std::set<std::string> completed;
    for (const ProgressEvent* e : rec.of(Kind::kStatus)) {
        EXPECT_EQ(e->name, name);
        if (e->completed) {
            EXPECT_TRUE(completed.insert(e->id).second) << e->id;
        }
    }
    EXPECT_EQ(completed, (std::set<std::string>{"06fe2d100798", "f1f1ed7fd310"}));
    EXPECT_THAT(
        rec.logs(name),
        ElementsAre(
            "The push refers to repository [127.0.0.1:44935/mytest/d2]",
            "arm64: digest: "
            "sha256:5800a094d3e9764ed9d856d82b577ec90da0b06fc2839aa05bed68642457d1e6 size: 735"));
}

TEST(PushProgress, EngineErrorsAreClassified) {
    const Reference ref = Reference::parse("127.0.0.1:5/mytest/x:v1");
    struct Case {
        const char* text;
        ErrorCode code;
    };
    for (const Case& c : {Case{"unauthorized: authentication required", ErrorCode::kAuthentication},
                          Case{"Get \"http://127.0.0.1:5/v2/\": dial tcp 127.0.0.1:5: connect: "
                               "connection refused",
                               ErrorCode::kNetwork},
                          Case{"blob upload invalid", ErrorCode::kRegistry}}) {
        Recorder rec;
        PushProgress progress(ref, "", rec.callback());
        progress.on_message(boost::json::object{{"status", "The push refers to repository x"}});
        progress.on_message(boost::json::object{
            {"errorDetail", boost::json::object{{"message", c.text}}}, {"error", c.text}});
        try {
            progress.finish();
            FAIL() << "no error for " << c.text;
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), c.code) << c.text;
            EXPECT_EQ(std::string(e.what()),
                      std::string("pushing 127.0.0.1:5/mytest/x:v1: ") + c.text);
        }
        EXPECT_EQ(rec.of(Kind::kVertexError).size(), 1U);
    }
}

}  // namespace
}  // namespace xarch::drivers::docker
