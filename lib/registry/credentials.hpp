// SPDX-License-Identifier: Apache-2.0
// The pieces of docker_config_keychain(), exposed to the module and its tests: config.json
// parsing, docker/cli's key normalization and the credential-helper protocol.
#pragma once

#include <xarch/credentials.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xarch::registry {

// docker/cli's key for Docker Hub in config.json and for its credential helpers.
inline constexpr std::string_view kDockerHubAuthKey = "https://index.docker.io/v1/";

// One `auths` entry, with `auth` already decoded into username and password.
struct AuthEntry {
    std::string key;
    Credentials credentials;
};

// What xarch uses of config.json. Lists keep the file's order, which decides between keys that
// normalize to the same host.
struct DockerConfigFile {
    std::filesystem::path path;
    std::vector<AuthEntry> auths;
    std::string creds_store;
    std::vector<std::pair<std::string, std::string>> cred_helpers;
};

// Parses the text of a config.json as docker/cli's LoadFromReader does: the first JSON value
// counts, an empty file is an empty configuration, field names match case-insensitively.
// Throws Error(kInvalidArgument) naming `path` (JSON syntax with line and column, wrong types,
// a bad `auth`); the message never contains a value from the file other than a key.
DockerConfigFile parse_docker_config(std::string_view text, const std::filesystem::path& path);

// Reads and parses `path`; nullopt when it does not exist. Throws Error(kIo) when it cannot be
// read and Error(kInvalidArgument) when it is malformed.
std::optional<DockerConfigFile> load_docker_config(const std::filesystem::path& path);

// The folder of config.json when none is given: $DOCKER_CONFIG, else $HOME/.docker, else the
// passwd entry's home; empty when there is no home at all.
std::filesystem::path default_docker_config_dir();

// docker/cli's getAuthConfigKey: Docker Hub's names give kDockerHubAuthKey, others stay as they
// are.
std::string auth_config_key(std::string_view registry);

// docker/cli's credentials.ConvertToHostname: "https://host:5000/v2/" -> "host:5000",
// "host/path" -> "host".
std::string convert_to_hostname(std::string_view maybe_url);

struct HelperOptions {
    std::string search_path;  // ':'-separated directories
    std::chrono::milliseconds timeout{std::chrono::seconds(60)};
};

// `docker-credential-<helper> get` with `server_url` on stdin, as docker-credential-helpers'
// client.Get: nullopt when it answers "credentials not found in native keychain", a username of
// "<token>" makes the secret an identity token. Throws Error(kAuthentication) for every other
// failure, with the helper's stderr and never its stdout's secrets.
std::optional<Credentials> run_credential_helper(std::string_view helper,
                                                 std::string_view server_url,
                                                 const HelperOptions& options);

// The lookup docker/cli's GetAuthConfig does on a parsed file: the registry's credHelpers entry,
// else credsStore, else the `auths` entry (exact key first, then a key that normalizes to it).
std::optional<Credentials> lookup_credentials(const DockerConfigFile& config,
                                              std::string_view registry,
                                              const HelperOptions& options);

}  // namespace xarch::registry
