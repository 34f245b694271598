// SPDX-License-Identifier: Apache-2.0
// Which Docker Engine to talk to and how: DOCKER_HOST with its TLS variables, Docker contexts
// (DOCKER_CONTEXT, config.json's currentContext, the context store), resolved as docker/cli does.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace xarch::engine {

inline constexpr std::string_view kDefaultDockerHost = "unix:///var/run/docker.sock";

struct Endpoint {
    std::string host;                     // "unix:///var/run/docker.sock" or "tcp://host:port"
    bool tls = false;                     // https over tcp
    bool tls_verify = true;               // check the engine's certificate against `ca`
    std::filesystem::path ca, cert, key;  // PEM files; empty when not used
    std::string source;  // for messages: "DOCKER_HOST", "context \"name\"", "default"
};

// "" -> $DOCKER_HOST (+ DOCKER_TLS_VERIFY / DOCKER_TLS / DOCKER_CERT_PATH as docker/cli reads
// them), else the context named by $DOCKER_CONTEXT or config.json's "currentContext"
// (`docker_config_dir` empty: $DOCKER_CONFIG, else ~/.docker; the context's
// contexts/meta/<sha256(name)>/meta.json gives Endpoints.docker.Host and SkipTLSVerify, its TLS
// files are contexts/tls/<sha256(name)>/docker/{ca,cert,key}.pem), else
// unix:///var/run/docker.sock.
// "unix://..." / "tcp://..." are taken as given, with the TLS variables applied to tcp as
// `docker -H` does (a tcp address without a port gets 2375, or 2376 with TLS); any other text
// is a context name ("default" is the default endpoint: $DOCKER_HOST or the local socket).
// Throws Error(kInvalidArgument) quoting an unknown scheme (ssh://, npipe://, ...), a malformed
// address, an unknown context (listing the contexts that exist), a malformed meta.json or
// config.json (naming the file), or DOCKER_TLS_VERIFY without a readable ca.pem.
Endpoint resolve_endpoint(std::string_view spec,
                          const std::filesystem::path& docker_config_dir = {});

// The address part of a unix:// host (the socket's path), "" for any other.
std::string unix_socket_path(std::string_view host);

}  // namespace xarch::engine
