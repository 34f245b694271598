// SPDX-License-Identifier: Apache-2.0
// The test dockerd's DOCKER_HOST, read from the env file dockerd/start.sh writes (header-only,
// std only): tests that load or run images take the engine from here.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace xarch::test {

// DOCKER_HOST from `env_file`; "" with the reason in *why when the engine is not there.
inline std::string test_docker_host(const std::string& env_file, std::string* why) {
    std::ifstream in(env_file);
    if (!in) {
        *why = "no " + env_file + ": dockerd_start did not run";
        return {};
    }
    std::string line;
    *why = "no DOCKER_HOST in " + env_file;
    while (std::getline(in, line)) {
        if (line.starts_with("DOCKER_HOST=")) {
            return line.substr(12);
        }
        if (line.starts_with("XARCH_TEST_DOCKERD_UNAVAILABLE=")) {
            *why = line;
        }
    }
    return {};
}

// The value of `key` in `env_file` (DOCKER_TLS_HOST, DOCKER_TLS_CERT_PATH, ...); "" when the
// file or the key is not there.
inline std::string test_dockerd_value(const std::string& env_file, const std::string& key) {
    std::ifstream in(env_file);
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with(key + "=")) {
            return line.substr(key.size() + 1);
        }
    }
    return {};
}

}  // namespace xarch::test
