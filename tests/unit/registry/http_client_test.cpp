// SPDX-License-Identifier: Apache-2.0
// The HTTP client against a scripted loopback server: streaming both ways, header handling,
// limits, cancellation, parallelism and connection reuse.
#include "registry/http_client.hpp"

#include "registry/registry_errors.hpp"
#include "unit/registry/test_server.hpp"

#include <xarch/error.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace xarch::registry;
using namespace std::chrono_literals;
using xarch::test::reply;
using xarch::test::Reply;
using xarch::test::ServerRequest;
using xarch::test::TestServer;

HttpRequest get(const std::string& url) {
    HttpRequest request;
    request.url = url;
    return request;
}

TEST(HttpHeaders, CaseInsensitive) {
    Headers headers;
    headers.add("Content-Type", "a");
    headers.add("www-authenticate", "one");
    headers.add("WWW-Authenticate", "two");
    EXPECT_EQ(headers.get("content-type"), "a");
    EXPECT_EQ(headers.get("CONTENT-TYPE"), "a");
    EXPECT_EQ(headers.get_all("Www-Authenticate"), (std::vector<std::string>{"one", "two"}));
    headers.set("WWW-AUTHENTICATE", "three");
    EXPECT_EQ(headers.get_all("www-authenticate"), (std::vector<std::string>{"three"}));
    headers.remove("content-TYPE");
    EXPECT_FALSE(headers.contains("Content-Type"));
}

TEST(HttpInjection, RefusesControlBytes) {
    EXPECT_THROW(validate_url("http://h/v2/a\r\nX-Evil: 1"), xarch::Error);
    EXPECT_THROW(validate_url("http://h/v2/a b"), xarch::Error);
    EXPECT_THROW(validate_url("http://h/v2/\xc3\xa9"), xarch::Error);
    EXPECT_THROW(validate_url(std::string("http://h/v2/\0", 13)), xarch::Error);
    EXPECT_NO_THROW(validate_url("http://h/v2/a/manifests/sha256:abc?n=1&last=x"));
    EXPECT_THROW(validate_header("X-Ok", "v\r\nX-Evil: 1"), xarch::Error);
    EXPECT_THROW(validate_header("X-Ok", "v\n"), xarch::Error);
    EXPECT_THROW(validate_header("Bad Name", "v"), xarch::Error);
    EXPECT_THROW(validate_header("Bad:Name", "v"), xarch::Error);
    EXPECT_THROW(validate_header("", "v"), xarch::Error);
    EXPECT_NO_THROW(validate_header("Accept", "application/json,\ttext/plain"));
    EXPECT_THROW(validate_method("GET /x HTTP/1.1\r\n"), xarch::Error);
    EXPECT_THROW(validate_method(""), xarch::Error);
    try {
        validate_header("Authorization", "Bearer secret\r\n");
        ADD_FAILURE();
    } catch (const xarch::Error& e) {
        EXPECT_EQ(e.code(), xarch::ErrorCode::kInvalidArgument);
        EXPECT_EQ(std::string(e.what()).find("secret"), std::string::npos) << e.what();
    }
}

TEST(HttpClient, InjectionNeverReachesTheWire) {
    TestServer server([](const ServerRequest&) { return reply(200); });
    HttpClient client;
    HttpRequest request = get(server.url("/v2/"));
    request.headers.add("X-Test", "a\r\nX-Evil: yes");
    EXPECT_THROW(client.send(request), xarch::Error);
    EXPECT_THROW(client.send(get(server.url("/v2/a\r\n\r\nGET /evil"))), xarch::Error);
    EXPECT_EQ(server.requests().size(), 0u);
}

TEST(HttpClient, BufferedGetWithHeaders) {
    TestServer server([](const ServerRequest& r) {
        return reply(200, "hello " + r.target,
                     {{"Docker-Content-Digest", "sha256:abc"}, {"X-Multi", "1"}, {"x-multi", "2"}});
    });
    HttpClient client;
    HttpRequest request = get(server.url("/v2/a?b=c"));
    request.headers.add("Accept", "application/vnd.oci.image.index.v1+json");
    const HttpResponse response = client.send(request);
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "hello /v2/a?b=c");
    EXPECT_EQ(response.headers.get("docker-content-digest"), "sha256:abc");
    EXPECT_EQ(response.headers.get_all("X-MULTI").size(), 2u);
    EXPECT_EQ(response.http_version, 1);
    const auto seen = server.requests().at(0);
    EXPECT_EQ(seen.header("accept"), "application/vnd.oci.image.index.v1+json");
    EXPECT_EQ(seen.header("user-agent").rfind("xarch/", 0), 0u);
}

TEST(HttpClient, ErrorStatusesAreAnswersNotExceptions) {
    TestServer server([](const ServerRequest&) { return reply(404, R"({"errors":[]})"); });
    HttpClient client;
    const HttpResponse response = client.send(get(server.url("/v2/x")));
    EXPECT_EQ(response.status, 404);
    EXPECT_EQ(response.body, R"({"errors":[]})");
}

TEST(HttpClient, StreamsDownloadsToTheSink) {
    const std::string blob(3 * 1024 * 1024 + 17, 'b');
    TestServer server([&](const ServerRequest&) { return reply(200, blob); });
    HttpClient client;
    HttpRequest request = get(server.url("/blob"));
    std::string received;
    std::vector<TransferProgress> progress;
    int status_seen = 0;
    request.max_body = 16;  // the limit is for buffered bodies only
    request.sink = [&](std::string_view chunk) { received.append(chunk); };
    request.on_headers = [&](int status, const Headers& headers) {
        status_seen = status;
        EXPECT_EQ(headers.get("Content-Length"), std::to_string(blob.size()));
        EXPECT_TRUE(received.empty());
    };
    request.progress = [&](const TransferProgress& p) { progress.push_back(p); };
    const HttpResponse response = client.send(request);
    EXPECT_EQ(response.status, 200);
    EXPECT_TRUE(response.body.empty());
    EXPECT_EQ(response.body_bytes, blob.size());
    EXPECT_EQ(received, blob);
    EXPECT_EQ(status_seen, 200);
    ASSERT_FALSE(progress.empty());
    EXPECT_EQ(progress.back().done, blob.size());
    EXPECT_EQ(progress.back().total, blob.size());
}

TEST(HttpClient, ErrorBodiesAreBufferedNotStreamed) {
    TestServer server([](const ServerRequest&) { return reply(500, "oops"); });
    HttpClient client;
    HttpRequest request = get(server.url("/blob"));
    bool sink_called = false;
    request.sink = [&](std::string_view) { sink_called = true; };
    const HttpResponse response = client.send(request);
    EXPECT_EQ(response.status, 500);
    EXPECT_EQ(response.body, "oops");
    EXPECT_FALSE(sink_called);
}

TEST(HttpClient, HugeContentLengthIsRefusedBeforeAllocation) {
    TestServer server([](const ServerRequest&) {
        Reply r{"HTTP/1.1 200 OK\r\nContent-Length: 1099511627776\r\n\r\nabc"};
        r.after = Reply::After::kClose;
        return r;
    });
    HttpClient client;
    try {
        client.send(get(server.url("/v2/a/manifests/big")));
        ADD_FAILURE();
    } catch (const xarch::RegistryError& e) {
        EXPECT_EQ(e.code(), xarch::ErrorCode::kRegistry);
        EXPECT_FALSE(e.temporary());
        EXPECT_NE(std::string(e.what()).find("larger than the limit of 4194304 bytes"),
                  std::string::npos)
            << e.what();
    }
}

TEST(HttpClient, BodyLargerThanTheLimitWithoutContentLength) {
    TestServer server([](const ServerRequest&) {
        Reply r{"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + std::string(5000, 'x')};
        r.after = Reply::After::kClose;
        return r;
    });
    HttpClient client;
    HttpRequest request = get(server.url("/x"));
    request.max_body = 1000;
    EXPECT_THROW(client.send(request), xarch::RegistryError);
}

TEST(HttpClient, LongErrorBodiesAreCut) {
    TestServer server([](const ServerRequest&) { return reply(500, std::string(200'000, 'e')); });
    HttpClient client;
    const HttpResponse response = client.send(get(server.url("/x")));
    EXPECT_EQ(response.status, 500);
    EXPECT_EQ(response.body.size(), kMaxErrorBody);
    EXPECT_TRUE(response.body_truncated);
}

TEST(HttpClient, HeadIgnoresTheLimit) {
    TestServer server([](const ServerRequest&) {
        return Reply{"HTTP/1.1 200 OK\r\nContent-Length: 1099511627776\r\n\r\n"};
    });
    HttpClient client;
    HttpRequest request = get(server.url("/v2/a/blobs/sha256:x"));
    request.method = "HEAD";
    const HttpResponse response = client.send(request);
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.headers.get("Content-Length"), "1099511627776");
}

TEST(HttpClient, UploadsKnownAndUnknownLength) {
    TestServer server([](const ServerRequest& r) {
        return reply(201, r.method + " " + std::to_string(r.body.size()) + " " +
                              (r.header("transfer-encoding").empty() ? "length" : "chunked"));
    });
    HttpClient client;
    const std::string payload(1024 * 1024 + 3, 'u');
    for (const char* method : {"PUT", "PATCH", "POST"}) {
        for (bool known : {true, false}) {
            std::size_t offset = 0;
            HttpRequest request = get(server.url("/upload"));
            request.method = method;
            request.source = BodySource{
                [&](char* buffer, std::size_t size) {
                    const std::size_t n = std::min(size, payload.size() - offset);
                    std::copy_n(payload.data() + offset, n, buffer);
                    offset += n;
                    return n;
                },
                nullptr, known ? std::optional<std::uint64_t>(payload.size()) : std::nullopt};
            std::uint64_t last = 0;
            request.progress = [&](const TransferProgress& p) { last = p.done; };
            const HttpResponse response = client.send(request);
            EXPECT_EQ(response.body, std::string(method) + " " + std::to_string(payload.size()) +
                                         (known ? " length" : " chunked"));
            EXPECT_EQ(last, payload.size());
        }
    }
    for (const ServerRequest& seen : server.requests()) {
        EXPECT_EQ(seen.body, payload);
    }
}

TEST(HttpClient, EmptyBodiesForPostPutPatch) {
    TestServer server([](const ServerRequest& r) {
        return reply(202, r.method + ":" + r.header("content-length"));
    });
    HttpClient client;
    for (const char* method : {"POST", "PUT", "PATCH"}) {
        HttpRequest request = get(server.url("/x"));
        request.method = method;
        EXPECT_EQ(client.send(request).body, std::string(method) + ":0");
    }
    HttpRequest del = get(server.url("/x"));
    del.method = "DELETE";
    EXPECT_EQ(client.send(del).status, 202);
    EXPECT_EQ(server.requests().back().method, "DELETE");
}

TEST(HttpClient, ASourceShorterThanItsSizeFailsInsteadOfHanging) {
    TestServer server([](const ServerRequest&) { return reply(201); });
    HttpClient client;
    HttpRequest request = get(server.url("/x"));
    request.method = "PUT";
    bool given = false;
    request.source = BodySource{[&](char* buffer, std::size_t) {
                                    if (given) {
                                        return std::size_t{0};
                                    }
                                    given = true;
                                    buffer[0] = 'a';
                                    return std::size_t{1};
                                },
                                nullptr, 100};
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(client.send(request), xarch::Error);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(HttpClient, SinkExceptionsReachTheCaller) {
    TestServer server([](const ServerRequest&) { return reply(200, std::string(100'000, 'x')); });
    HttpClient client;
    HttpRequest request = get(server.url("/x"));
    request.sink = [](std::string_view) { throw std::runtime_error("disk full"); };
    EXPECT_THROW(
        {
            try {
                client.send(request);
            } catch (const std::runtime_error& e) {
                EXPECT_STREQ(e.what(), "disk full");
                throw;
            }
        },
        std::runtime_error);
    // The client is still usable.
    EXPECT_EQ(client.send(get(server.url("/y"))).status, 200);
}

TEST(HttpClient, NetworkErrorsAreClassified) {
    HttpClientOptions options;
    options.connect_timeout = 2s;
    HttpClient client(options);
    int port = 0;
    {
        TestServer server([](const ServerRequest&) { return reply(200); });
        port = std::stoi(server.authority().substr(10));
    }
    try {
        client.send(get("http://127.0.0.1:" + std::to_string(port) + "/v2/"));
        ADD_FAILURE();
    } catch (const NetworkError& e) {
        EXPECT_EQ(e.failure(), NetworkFailure::kConnect);
        EXPECT_TRUE(e.temporary());
        EXPECT_EQ(e.code(), xarch::ErrorCode::kNetwork);
        EXPECT_NE(std::string(e.what()).find("GET http://127.0.0.1:"), std::string::npos);
    }
    TestServer resetting([](const ServerRequest&) {
        Reply r{"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nhalf"};
        r.after = Reply::After::kReset;
        return r;
    });
    try {
        client.send(get(resetting.url("/x")));
        ADD_FAILURE();
    } catch (const NetworkError& e) {
        EXPECT_EQ(e.failure(), NetworkFailure::kReset) << e.what();
        EXPECT_TRUE(e.temporary());
    }
    TestServer plain([](const ServerRequest&) { return reply(200); });
    try {
        client.send(get("https://" + plain.authority() + "/v2/"));
        ADD_FAILURE();
    } catch (const NetworkError& e) {
        EXPECT_EQ(e.failure(), NetworkFailure::kTls) << e.what();
        EXPECT_FALSE(e.temporary());
    }
}

TEST(HttpClient, CancelStopsAStalledTransferPromptly) {
    TestServer server([](const ServerRequest&) {
        Reply r{"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nstart"};
        r.after = Reply::After::kStall;
        return r;
    });
    HttpClient client;
    std::atomic<bool> cancel{false};
    HttpRequest request = get(server.url("/blob"));
    request.cancel = &cancel;
    request.sink = [](std::string_view) {};
    std::thread canceller([&] {
        std::this_thread::sleep_for(200ms);
        cancel = true;
    });
    const auto start = std::chrono::steady_clock::now();
    try {
        client.send(request);
        ADD_FAILURE();
    } catch (const xarch::Error& e) {
        EXPECT_EQ(e.code(), xarch::ErrorCode::kCancelled);
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
    canceller.join();
}

TEST(HttpClient, StallLimitEndsAHungTransfer) {
    TestServer server([](const ServerRequest&) {
        Reply r{"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"};
        r.after = Reply::After::kStall;
        return r;
    });
    HttpClientOptions options;
    options.low_speed_time = 1s;
    HttpClient client(options);
    try {
        client.send(get(server.url("/x")));
        ADD_FAILURE();
    } catch (const NetworkError& e) {
        EXPECT_EQ(e.failure(), NetworkFailure::kTimeout) << e.what();
    }
}

TEST(HttpClient, ParallelSendsShareBoundedConnections) {
    std::atomic<int> inside{0};
    std::atomic<int> most{0};
    TestServer server([&](const ServerRequest& r) {
        const int now = ++inside;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(20ms);
        --inside;
        return reply(200, r.target);
    });
    HttpClientOptions options;
    options.max_parallel = 3;
    HttpClient client(options);
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 5; ++i) {
                const std::string path = "/r/" + std::to_string(t) + "/" + std::to_string(i);
                if (client.send(get(server.url(path))).body == path) {
                    ++ok;
                }
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(ok.load(), 40);
    EXPECT_LE(most.load(), 3);
    EXPECT_LE(client.peak_active(), 3u);
    EXPECT_GE(client.peak_active(), 2u);
    // Keep-alive: 40 requests over at most a handful of connections.
    EXPECT_LE(server.connections(), 6);
}

TEST(HttpClient, DestructorFailsNothingWhenIdleAndJoins) {
    for (int i = 0; i < 20; ++i) {
        HttpClient client;
    }
}

TEST(HttpClient, SendFromASinkIsRefused) {
    TestServer server([](const ServerRequest&) { return reply(200, "x"); });
    HttpClient client;
    HttpRequest request = get(server.url("/x"));
    request.sink = [&](std::string_view) { client.send(get(server.url("/y"))); };
    EXPECT_THROW(client.send(request), xarch::Error);
}

}  // namespace
