// SPDX-License-Identifier: Apache-2.0
// Registry credentials and where they come from: the caller, or Docker's client configuration
// (~/.docker/config.json with its credential helpers), read the way docker/cli reads it.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

namespace xarch {

// What to authenticate to one registry with. Either a username and password (Basic, or the
// token service's password grant), an identity token (an OAuth2 refresh token, as `docker login`
// stores for Docker Hub), or a registry token (sent as-is as a Bearer token).
//
// The secrets never appear in messages: to_string() and operator<< redact them, and nothing in
// xarch puts them in an error, a log line or a progress event.
struct Credentials {
    std::string username;
    std::string password;
    std::string identity_token;
    std::string registry_token;

    // True when there is nothing to authenticate with (anonymous access).
    bool empty() const noexcept;

    // `Credentials{username="bob", password=<redacted>, identity_token=<none>, ...}`: which
    // fields are set, never their secret values.
    std::string to_string() const;

    friend bool operator==(const Credentials&, const Credentials&) = default;
};

// Writes to_string(); the secrets are redacted.
std::ostream& operator<<(std::ostream& out, const Credentials& credentials);

// Credentials for a registry as it appears in a reference (Reference::registry(): "docker.io",
// "localhost:5000", "ghcr.io"), or nullopt for anonymous access. May throw xarch::Error. May be
// called from several threads at once; implementations must allow that.
using CredentialsLookup = std::function<std::optional<Credentials>(std::string_view registry)>;

struct DockerConfigOptions {
    // The folder holding config.json, as `docker --config` takes it. Empty: $DOCKER_CONFIG when
    // it is set and not empty, else $HOME/.docker (the passwd entry's home when HOME is unset).
    std::filesystem::path config_dir;
    // How long one `docker-credential-<name> get` may run before it is killed and the lookup
    // fails; generous because a helper may wait for the user to unlock a keyring.
    std::chrono::milliseconds helper_timeout{std::chrono::seconds(60)};
    // The directories to look for helpers in, ':'-separated like PATH. nullopt: $PATH as it is
    // when docker_config_keychain() is called. Empty and relative entries are skipped.
    std::optional<std::string> helper_path;
};

// Credentials from Docker's client configuration, looked up as docker/cli does for each call:
// config.json is read again on every lookup, so a later `docker login` is seen.
//   - a missing config.json (or an empty one) means anonymous access;
//   - a helper named in `credHelpers` for the registry wins, then `credsStore`, then `auths`;
//     a helper runs as `docker-credential-<name> get` with the server address on stdin, and
//     its "credentials not found" answer means anonymous access;
//   - Docker Hub ("docker.io", "index.docker.io") is looked up under the historical key
//     "https://index.docker.io/v1/"; other registries under their name, where `auths` keys
//     written as URLs ("https://host:5000/v2/") also match.
// A malformed config.json throws Error(kInvalidArgument) naming the file; a helper that fails,
// crashes, hangs past the timeout, is missing from the path or prints something other than its
// JSON answer throws Error(kAuthentication) with the helper's stderr. Neither message contains
// a secret from the file or from the helper.
CredentialsLookup docker_config_keychain(DockerConfigOptions options = {});

}  // namespace xarch
