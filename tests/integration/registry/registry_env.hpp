// SPDX-License-Identifier: Apache-2.0
// The shared test registries, for GoogleTest suites (header-only; see README.md beside this file).
//
//     std::string why;
//     auto reg = xarch::test::load_registry_env(&why);
//     if (!reg) {
//         GTEST_SKIP() << why;
//     }
//     reg->plain;  // "127.0.0.1:PORT"
//     xarch::test::ScopedFault fault(*reg, R"({"kind":"status500","path":"^/v2/mytest/"})");
//
// The env file is named by XARCH_TEST_REGISTRY_ENV, which ctest sets for the tests of a target
// passed to xarch_use_test_registry() in tests/integration/CMakeLists.txt. The fault proxy and the
// token issuer are driven by a minimal HTTP/1.1 client over a POSIX socket (loopback only), so the
// header needs nothing but the standard library.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace xarch::test {

inline constexpr const char* kRegistryEnvVar = "XARCH_TEST_REGISTRY_ENV";

// The KEY=VALUE lines of the env file; the members are the keys most tests use.
struct RegistryEnv {
    std::map<std::string, std::string, std::less<>> values;  // every key of the file

    std::string plain;          // XARCH_TEST_REGISTRY: plain HTTP, no auth
    std::string tls;            // XARCH_TEST_REGISTRY_TLS: HTTPS + Basic auth
    std::string tls_ca;         // XARCH_TEST_REGISTRY_TLS_CA: PEM of the throwaway CA
    std::string tls_cert_dir;   // XARCH_TEST_REGISTRY_TLS_CERT_DIR: holds only ca.crt
    std::string user;           // XARCH_TEST_REGISTRY_USER (TLS registry and token issuer)
    std::string password;       // XARCH_TEST_REGISTRY_PASSWORD
    std::string token;          // XARCH_TEST_REGISTRY_TOKEN: plain HTTP, `auth: token`
    std::string token_realm;    // XARCH_TEST_TOKEN_REALM
    std::string token_service;  // XARCH_TEST_TOKEN_SERVICE
    std::string token_issuer;   // XARCH_TEST_TOKEN_ISSUER: http://HOST:PORT (GET /__log)
    std::string fault_proxy;    // XARCH_TEST_FAULT_PROXY: in front of `plain`
    std::string fault_control;  // XARCH_TEST_FAULT_CONTROL: http://HOST:PORT/__fault
    std::string busybox_oci;    // XARCH_TEST_BUSYBOX_OCI: the OCI layout (index tagged `busybox`)
    std::string busybox_repo;   // XARCH_TEST_BUSYBOX_REPO: library/busybox on every registry
    std::string busybox_tag;    // XARCH_TEST_BUSYBOX_TAG: latest
    std::string busybox_index_digest;  // XARCH_TEST_BUSYBOX_INDEX_DIGEST

    // The value of KEY, or "" when the file lacks it.
    std::string get(std::string_view key) const {
        auto it = values.find(key);
        return it == values.end() ? std::string() : it->second;
    }

    // The seeded manifest digest for "linux/amd64", "linux/arm64" or "linux/arm/v7" ("" if none).
    std::string busybox_manifest(std::string_view platform) const {
        std::string key = "XARCH_TEST_BUSYBOX_MANIFEST_";
        for (char c : platform) {
            key += c == '/' ? '_' : static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
        }
        return get(key);
    }
};

// Reads the env file named by XARCH_TEST_REGISTRY_ENV. Returns nullopt, with the reason in *why,
// when the variable is unset, the file is missing (registry_start did not run) or incomplete.
inline std::optional<RegistryEnv> load_registry_env(std::string* why = nullptr) {
    auto fail = [why](std::string reason) -> std::optional<RegistryEnv> {
        if (why != nullptr) {
            *why = std::move(reason);
        }
        return std::nullopt;
    };
    const char* name = std::getenv(kRegistryEnvVar);
    if (name == nullptr || *name == '\0') {
        return fail(std::string(kRegistryEnvVar) +
                    " is not set: the shared test registries run only under ctest, for targets "
                    "passed to xarch_use_test_registry() (ctest -L integration)");
    }
    std::ifstream in(name);
    if (!in) {
        return fail(std::string(kRegistryEnvVar) + "=" + name +
                    " cannot be read: the registry_start fixture did not run or failed");
    }
    RegistryEnv env;
    for (std::string line; std::getline(in, line);) {
        auto eq = line.find('=');
        if (eq != std::string::npos && eq > 0) {
            env.values[line.substr(0, eq)] = line.substr(eq + 1);
        }
    }
    for (const char* key : {"XARCH_TEST_REGISTRY", "XARCH_TEST_BUSYBOX_INDEX_DIGEST"}) {
        if (env.get(key).empty()) {
            return fail(std::string(name) + " lacks " + key + ": registry_start did not finish");
        }
    }
    env.plain = env.get("XARCH_TEST_REGISTRY");
    env.tls = env.get("XARCH_TEST_REGISTRY_TLS");
    env.tls_ca = env.get("XARCH_TEST_REGISTRY_TLS_CA");
    env.tls_cert_dir = env.get("XARCH_TEST_REGISTRY_TLS_CERT_DIR");
    env.user = env.get("XARCH_TEST_REGISTRY_USER");
    env.password = env.get("XARCH_TEST_REGISTRY_PASSWORD");
    env.token = env.get("XARCH_TEST_REGISTRY_TOKEN");
    env.token_realm = env.get("XARCH_TEST_TOKEN_REALM");
    env.token_service = env.get("XARCH_TEST_TOKEN_SERVICE");
    env.token_issuer = env.get("XARCH_TEST_TOKEN_ISSUER");
    env.fault_proxy = env.get("XARCH_TEST_FAULT_PROXY");
    env.fault_control = env.get("XARCH_TEST_FAULT_CONTROL");
    env.busybox_oci = env.get("XARCH_TEST_BUSYBOX_OCI");
    env.busybox_repo = env.get("XARCH_TEST_BUSYBOX_REPO");
    env.busybox_tag = env.get("XARCH_TEST_BUSYBOX_TAG");
    env.busybox_index_digest = env.get("XARCH_TEST_BUSYBOX_INDEX_DIGEST");
    return env;
}

struct HttpReply {
    int status = 0;
    std::string headers;  // the raw header lines
    std::string body;
};

// One HTTP/1.1 request with `Connection: close` to an http://127.0.0.1:PORT/... URL (the control
// endpoints; not a client for registry traffic). Throws std::runtime_error on any failure;
// 10-second send and receive timeouts.
inline HttpReply http_request(std::string_view method,
                              std::string_view url,
                              std::string_view body = {},
                              std::string_view extra_headers = {}) {
    constexpr std::string_view kScheme = "http://";
    auto error = [&](std::string_view what) {
        return std::runtime_error(std::string(what) + " (" + std::string(method) + " " +
                                  std::string(url) + ")");
    };
    if (url.substr(0, kScheme.size()) != kScheme) {
        throw error("http_request: only http:// URLs");
    }
    std::string_view rest = url.substr(kScheme.size());
    std::string_view authority = rest.substr(0, rest.find('/'));
    std::string path =
        authority.size() < rest.size() ? std::string(rest.substr(authority.size())) : "/";
    auto colon = authority.rfind(':');
    if (colon == std::string_view::npos) {
        throw error("http_request: the URL needs a port");
    }
    std::string host(authority.substr(0, colon));
    int port = std::atoi(std::string(authority.substr(colon + 1)).c_str());
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
        (ntohl(addr.sin_addr.s_addr) >> 24) != 127 || port <= 0 || port > 65535) {
        throw error("http_request: loopback IPv4 addresses only");
    }
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        throw error(std::string("socket: ") + std::strerror(errno));
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    timeval timeout{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        throw error(std::string("connect: ") + std::strerror(errno));
    }
    std::string request = std::string(method) + " " + path +
                          " HTTP/1.1\r\nHost: " + std::string(authority) +
                          "\r\nConnection: close\r\n";
    if (!body.empty() || method == "POST" || method == "PUT") {
        request +=
            "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
            "\r\n";
    }
    request += std::string(extra_headers);
    request += "\r\n";
    request += body;
    for (std::size_t sent = 0; sent < request.size();) {
        ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) {
            throw error(std::string("send: ") + std::strerror(errno));
        }
        sent += static_cast<std::size_t>(n);
    }
    std::string reply;
    char buffer[16384];
    for (;;) {
        ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n < 0) {
            throw error(std::string("recv: ") + std::strerror(errno));
        }
        if (n == 0) {
            break;
        }
        reply.append(buffer, static_cast<std::size_t>(n));
    }
    auto end = reply.find("\r\n\r\n");
    if (reply.compare(0, 9, "HTTP/1.1 ") != 0 || end == std::string::npos) {
        throw error("http_request: not an HTTP/1.1 answer");
    }
    HttpReply out;
    out.status = std::atoi(reply.c_str() + 9);
    out.headers = reply.substr(0, end);
    out.body = reply.substr(end + 4);
    return out;
}

// Adds a fault rule (JSON; kinds and fields in fault_proxy.py) and returns its id.
inline int add_fault(const RegistryEnv& env, std::string_view rule_json) {
    HttpReply reply = http_request("POST", env.fault_control, rule_json);
    auto at = reply.body.find("\"id\":");
    if (reply.status != 201 || at == std::string::npos) {
        throw std::runtime_error("fault proxy refused the rule " + std::string(rule_json) + ": " +
                                 std::to_string(reply.status) + " " + reply.body);
    }
    return std::atoi(reply.body.c_str() + at + 5);
}

// Removes a rule; false when it was gone already (used up).
inline bool remove_fault(const RegistryEnv& env, int id) {
    return http_request("DELETE", env.fault_control + "/" + std::to_string(id)).status == 204;
}

// A fault rule for the lifetime of the object.
class ScopedFault {
public:
    ScopedFault(const RegistryEnv& env, std::string_view rule_json)
        : env_(env), id_(add_fault(env, rule_json)) {}
    ScopedFault(const ScopedFault&) = delete;
    ScopedFault& operator=(const ScopedFault&) = delete;
    ~ScopedFault() {
        try {
            remove_fault(env_, id_);
        } catch (...) {  // NOLINT(bugprone-empty-catch): nothing to do in a destructor
        }
    }
    int id() const { return id_; }

private:
    const RegistryEnv& env_;
    int id_;
};

// The JSON list of the faults applied and the rules left ({"rules": [...], "applied": [...]}),
// the fault proxy's request log, and the token issuer's log of tokens given.
inline std::string fault_state(const RegistryEnv& env) {
    return http_request("GET", env.fault_control).body;
}
inline std::string proxy_log(const RegistryEnv& env) {
    return http_request("GET", "http://" + env.fault_proxy + "/__log").body;
}
inline std::string token_log(const RegistryEnv& env) {
    return http_request("GET", env.token_issuer + "/__log").body;
}

}  // namespace xarch::test
