// SPDX-License-Identifier: Apache-2.0
// engine::Client against scripted engines on real unix sockets: version negotiation (and an
// engine too old), answers trickled in pieces, an engine dying mid-answer, HTTP errors with the
// engine's text, request bodies, cancellation, and the errors for a socket that is not there.
#include "engine/client.hpp"

#include "integration/test_support.hpp"
#include "unit/engine/fake_engine.hpp"

#include <xarch/error.hpp>

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace xarch::engine {
namespace {
namespace fs = std::filesystem;
using test::FakeEngine;
using test::FakeRequest;

using xarch::test::error_of;

// Answers /_ping with `version` (none when empty) and hands other requests to `rest`.
FakeEngine::Handler engine_speaking(std::string version, FakeEngine::Handler rest = {}) {
    return [version, rest](int fd, const FakeRequest& request) {
        if (request.target == "/_ping") {
            FakeEngine::answer(
                fd, 200, "OK",
                version.empty() ? std::string() : "Api-Version: " + version + "\r\n");
        } else if (rest) {
            rest(fd, request);
        } else {
            FakeEngine::answer(fd, 404, R"({"message":"page not found"})");
        }
    };
}

// Waits until the client closes the connection (bounded, so that a broken client cannot hang
// the fake's thread forever).
void wait_for_close(int fd) {
    for (int i = 0; i < 300; ++i) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) > 0) {
            char byte;
            if (::recv(fd, &byte, 1, 0) <= 0) {
                return;
            }
        }
    }
}

class EngineClientTest : public ::testing::Test {
protected:
    void SetUp() override {
        // Short: unix socket paths are limited to 108 bytes.
        dir_ = fs::path("/tmp") /
               ("xarch-engine-" + std::to_string(::getpid()) + "-" + std::to_string(++counter_));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    Endpoint endpoint_of(const FakeEngine& engine) {
        Endpoint endpoint;
        endpoint.host = engine.host();
        endpoint.source = "endpoint";
        return endpoint;
    }

    fs::path dir_;
    static inline std::atomic<int> counter_{0};
};

TEST_F(EngineClientTest, NegotiatesTheLowerVersionOncePerClient) {
    FakeEngine newer(dir_ / "newer.sock", engine_speaking("1.43"));
    Client client(endpoint_of(newer));
    std::vector<std::thread> threads;
    std::vector<std::string> versions(4);
    for (std::size_t i = 0; i < versions.size(); ++i) {
        threads.emplace_back([&, i] { versions[i] = client.api_version(); });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    for (const auto& version : versions) {
        EXPECT_EQ(version, kMaxApiVersion);
    }
    EXPECT_EQ(newer.requests().size(), 1U);  // one /_ping for all of them

    FakeEngine older(dir_ / "older.sock", engine_speaking("1.39"));
    EXPECT_EQ(Client(endpoint_of(older)).api_version(), "1.39");
}

TEST_F(EngineClientTest, AnEngineTooOldIsRefused) {
    FakeEngine engine(dir_ / "old.sock", engine_speaking("1.24"));
    Client client(endpoint_of(engine));
    const auto message = error_of([&] { client.api_version(); }, ErrorCode::kUnsupported);
    EXPECT_NE(message.find("the Docker Engine at " + engine.host() + " speaks API 1.24"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("xarch needs 1.38 or newer (Docker 18.06+)"), std::string::npos)
        << message;
    // Requests need the version: they fail the same way and send nothing else.
    error_of([&] { client.get_json("/info"); }, ErrorCode::kUnsupported);
    for (const auto& request : engine.requests()) {
        EXPECT_EQ(request.target, "/_ping");
    }
}

TEST_F(EngineClientTest, AnEngineThatDoesNotSayItsVersionIsTakenAsOld) {
    FakeEngine engine(dir_ / "silent.sock", engine_speaking(""));
    const auto message =
        error_of([&] { Client(endpoint_of(engine)).api_version(); }, ErrorCode::kUnsupported);
    EXPECT_NE(message.find("speaks API 1.24"), std::string::npos) << message;
}

TEST_F(EngineClientTest, AServerThatIsNoEngineIsNamed) {
    FakeEngine engine(dir_ / "web.sock", [](int fd, const FakeRequest&) {
        FakeEngine::answer(fd, 404, "<html>not here</html>", "");
    });
    const auto message =
        error_of([&] { Client(endpoint_of(engine)).api_version(); }, ErrorCode::kUnsupported);
    EXPECT_NE(message.find("HTTP 404"), std::string::npos) << message;
    EXPECT_NE(message.find("does not look like a Docker Engine"), std::string::npos) << message;
}

TEST_F(EngineClientTest, JsonRequestsAreVersionedAndErrorsCarryTheEnginesText) {
    FakeEngine engine(
        dir_ / "json.sock", engine_speaking("1.41", [](int fd, const FakeRequest& r) {
            if (r.target == "/v1.41/images/json?all=1") {
                FakeEngine::answer(fd, 200, R"([{"Id":"sha256:aa"}])");
            } else if (r.target == "/v1.41/images/x/tag?repo=y&tag=z" && r.method == "POST") {
                FakeEngine::answer(fd, 201, "");
            } else if (r.target.starts_with("/v1.41/images/missing")) {
                FakeEngine::answer(fd, 404, R"({"message":"No such image: missing:latest"})");
            } else if (r.target.starts_with("/v1.41/denied")) {
                FakeEngine::answer(fd, 403, R"({"message":"denied by policy"})");
            } else {
                FakeEngine::answer(fd, 500, "plain text trouble");
            }
        }));
    Client client(endpoint_of(engine));
    const auto images = client.get_json("/images/json?all=1");
    ASSERT_TRUE(images.is_array());
    EXPECT_EQ(images.as_array().at(0).at("Id"), "sha256:aa");
    EXPECT_EQ(client.post("/images/x/tag?repo=y&tag=z"), "");
    const auto requests = engine.requests();
    ASSERT_EQ(requests.size(), 3U);
    EXPECT_TRUE(requests[2].body.empty());
    EXPECT_EQ(requests[2].headers.find("application/x-www-form-urlencoded"), std::string::npos);

    try {
        client.get_json("/images/missing/json");
        ADD_FAILURE() << "no error";
    } catch (const EngineError& e) {
        EXPECT_EQ(e.code(), ErrorCode::kNotFound);
        EXPECT_EQ(e.http_status(), 404);
        EXPECT_EQ(e.engine_message(), "No such image: missing:latest");
        EXPECT_NE(std::string(e.what()).find(engine.host()), std::string::npos) << e.what();
    }
    auto message = error_of([&] { client.post("/denied"); }, ErrorCode::kAuthentication);
    EXPECT_NE(message.find("denied by policy"), std::string::npos) << message;
    message = error_of([&] { client.get_json("/other"); }, ErrorCode::kIo);
    EXPECT_NE(message.find("plain text trouble"), std::string::npos) << message;
    error_of([&] { client.get_json("no-slash"); }, ErrorCode::kInvalidArgument);
}

TEST_F(EngineClientTest, InfoCombinesVersionAndInfo) {
    FakeEngine engine(
        dir_ / "info.sock", engine_speaking("1.41", [](int fd, const FakeRequest& r) {
            if (r.target == "/v1.41/version") {
                FakeEngine::answer(
                    fd, 200,
                    R"({"Version":"20.10.24+dfsg1","ApiVersion":"1.41","Os":"linux",)"
                    R"("Arch":"arm64","MinAPIVersion":"1.12"})");
            } else {
                FakeEngine::answer(
                    fd, 200,
                    R"({"Name":"node-a","NCPU":8,"OSType":"linux","Architecture":"aarch64"})");
            }
        }));
    const auto info = Client(endpoint_of(engine)).info();
    EXPECT_EQ(info.name, "node-a");
    EXPECT_EQ(info.server_version, "20.10.24+dfsg1");
    EXPECT_EQ(info.api_version, "1.41");
    EXPECT_EQ(info.os, "linux");
    EXPECT_EQ(info.architecture, "arm64");  // GOARCH from /version, not /info's uname
    EXPECT_EQ(info.cpus, 8);
}

TEST_F(EngineClientTest, StreamedMessagesArriveWhateverTheChunking) {
    const std::string answer =
        "{\"stream\":\"Step 1/2 : FROM busybox\"}\r\n{\"status\":\"Pulling\",\"id\":\"ab\"}\r\n"
        "plain line\r\n{\"aux\":{\"ID\":\"sha256:cd\"}}\r\n";
    FakeEngine engine(dir_ / "trickle.sock",
                      engine_speaking("1.41", [&](int fd, const FakeRequest&) {
                          FakeEngine::chunked_head(fd);
                          for (const char c : answer) {  // one byte per chunk
                              FakeEngine::chunk(fd, std::string(1, c));
                          }
                          FakeEngine::chunked_end(fd);
                      }));
    Client client(endpoint_of(engine));
    std::vector<std::string> messages;
    Client::Request request;
    request.path_and_query = "/build?t=x";
    client.stream(request, [&](const boost::json::object& message) {
        messages.push_back(boost::json::serialize(message));
    });
    EXPECT_EQ(messages,
              (std::vector<std::string>{
                  R"({"stream":"Step 1/2 : FROM busybox"})", R"({"status":"Pulling","id":"ab"})",
                  R"({"stream":"plain line"})", R"({"aux":{"ID":"sha256:cd"}})"}));
}

TEST_F(EngineClientTest, AnEngineDyingMidAnswerIsANetworkError) {
    FakeEngine engine(dir_ / "dies.sock", engine_speaking("1.41", [](int fd, const FakeRequest&) {
                          FakeEngine::chunked_head(fd);
                          FakeEngine::chunk(fd, "{\"stream\":\"Step 1/3 : FROM busybox\"}\r\n");
                          FakeEngine::chunk(fd, "{\"stream\":\"Step 2/3 : RUN sleep 100\"}\r\n");
                          // and then the process is gone: the connection closes without the last
                          // chunk
                      }));
    Client client(endpoint_of(engine));
    int seen = 0;
    Client::Request request;
    request.path_and_query = "/build";
    const auto message =
        error_of([&] { client.stream(request, [&](const boost::json::object&) { ++seen; }); },
                 ErrorCode::kNetwork);
    EXPECT_EQ(seen, 2);
    EXPECT_NE(message.find("the Docker Engine at " + engine.host() +
                           " closed the connection before the answer ended (did dockerd stop?)"),
              std::string::npos)
        << message;
}

TEST_F(EngineClientTest, HttpErrorOnAStreamThrowsLikeGetJson) {
    FakeEngine engine(
        dir_ / "streamerr.sock", engine_speaking("1.41", [](int fd, const FakeRequest&) {
            FakeEngine::answer(fd, 404, R"({"message":"pull access denied for nope"})");
        }));
    Client client(endpoint_of(engine));
    Client::Request request;
    request.path_and_query = "/images/create?fromImage=nope&tag=latest";
    int seen = 0;
    const auto message =
        error_of([&] { client.stream(request, [&](const boost::json::object&) { ++seen; }); },
                 ErrorCode::kNotFound);
    EXPECT_EQ(seen, 0);
    EXPECT_NE(message.find("pull access denied for nope"), std::string::npos) << message;
}

TEST_F(EngineClientTest, TheBodyGoesOutInPiecesWithTheHeaders) {
    FakeEngine engine(dir_ / "body.sock", engine_speaking("1.41", [](int fd, const FakeRequest& r) {
                          FakeEngine::answer(
                              fd, 200,
                              "{\"stream\":\"got " + std::to_string(r.body.size()) + " bytes\"}\n");
                      }));
    std::string body;
    for (int i = 0; i < 300000; ++i) {
        body += static_cast<char>('a' + i % 26);
    }
    std::size_t offset = 0;
    Client::Request request;
    request.path_and_query = "/build?platform=linux%2Farm64";
    request.headers = {"Content-Type: application/x-tar", "X-Registry-Config: e30="};
    request.body = [&](char* buffer, std::size_t size) {
        const std::size_t n = std::min({size, std::size_t{7777}, body.size() - offset});
        std::copy_n(body.data() + offset, n, buffer);
        offset += n;
        return n;
    };
    std::vector<std::string> lines;
    Client(endpoint_of(engine)).stream(request, [&](const boost::json::object& message) {
        lines.emplace_back(message.at("stream").as_string());
    });
    EXPECT_EQ(lines, std::vector<std::string>{"got 300000 bytes"});
    const auto requests = engine.requests();
    ASSERT_EQ(requests.size(), 2U);
    EXPECT_EQ(requests[1].method, "POST");
    EXPECT_EQ(requests[1].target, "/v1.41/build?platform=linux%2Farm64");
    EXPECT_EQ(requests[1].body, body);
    EXPECT_NE(requests[1].headers.find("X-Registry-Config: e30="), std::string::npos);
    EXPECT_NE(requests[1].headers.find("Content-Type: application/x-tar"), std::string::npos);
}

TEST_F(EngineClientTest, ExceptionsFromTheCallerAbortAndComeBack) {
    FakeEngine engine(dir_ / "throws.sock", engine_speaking("1.41", [](int fd, const FakeRequest&) {
                          FakeEngine::chunked_head(fd);
                          FakeEngine::chunk(fd, "{\"stream\":\"one\"}\n{\"stream\":\"two\"}\n");
                          wait_for_close(fd);
                      }));
    Client client(endpoint_of(engine));
    Client::Request request;
    request.path_and_query = "/build";
    auto message = error_of(
        [&] {
            client.stream(request, [](const boost::json::object&) {
                throw Error(ErrorCode::kInternal, "the caller stops here");
            });
        },
        ErrorCode::kInternal);
    EXPECT_EQ(message, "the caller stops here");
    request.body = [](char*, std::size_t) -> std::size_t {
        throw Error(ErrorCode::kIo, "the context cannot be read");
    };
    message = error_of([&] { client.stream(request, [](const boost::json::object&) {}); },
                       ErrorCode::kIo);
    EXPECT_EQ(message, "the context cannot be read");
}

TEST_F(EngineClientTest, CancelStopsAStreamTheEngineKeepsOpen) {
    FakeEngine engine(
        dir_ / "cancel.sock", engine_speaking("1.41", [](int fd, const FakeRequest&) {
            FakeEngine::chunked_head(fd);
            FakeEngine::chunk(fd, "{\"stream\":\"Step 1/1 : RUN sleep 3600\"}\n");
            wait_for_close(fd);  // a long step: nothing more until the client gives up
        }));
    Client client(endpoint_of(engine));
    std::atomic<bool> cancel{false};
    Client::Request request;
    request.path_and_query = "/build";
    error_of(
        [&] {
            client.stream(
                request, [&](const boost::json::object&) { cancel = true; },
                [&] { return cancel.load(); });
        },
        ErrorCode::kCancelled);
}

TEST_F(EngineClientTest, AMissingSocketSaysWhatToDo) {
    Endpoint endpoint;
    endpoint.host = "unix://" + (dir_ / "absent.sock").string();
    const auto message = error_of([&] { Client(endpoint).api_version(); }, ErrorCode::kNetwork);
    EXPECT_NE(message.find("cannot connect to the Docker Engine at " + endpoint.host +
                           ": no such file; is dockerd running? set DOCKER_HOST or the builder's "
                           "endpoint"),
              std::string::npos)
        << message;
    std::ofstream(dir_ / "file.sock") << "x";
    endpoint.host = "unix://" + (dir_ / "file.sock").string();
    const auto not_socket = error_of([&] { Client(endpoint).api_version(); }, ErrorCode::kNetwork);
    EXPECT_NE(not_socket.find("not a socket"), std::string::npos) << not_socket;
}

TEST_F(EngineClientTest, OnlyUnixAndTcpHosts) {
    Endpoint endpoint;
    endpoint.host = "ssh://me@192.0.2.1";
    const auto message = error_of([&] { Client client(endpoint); }, ErrorCode::kInvalidArgument);
    EXPECT_NE(message.find("\"ssh://me@192.0.2.1\""), std::string::npos) << message;
}

}  // namespace
}  // namespace xarch::engine
