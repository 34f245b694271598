// SPDX-License-Identifier: Apache-2.0
// Python arguments shared by the bindings (arguments.hpp).
#include "arguments.hpp"

#include "xarch/error.hpp"

#include <pybind11/stl.h>

#include <string_view>
#include <utility>

namespace py = pybind11;

namespace xarch::python {

std::string type_name(py::handle value) {
    return py::str(py::type::handle_of(value).attr("__name__")).cast<std::string>();
}

Platform to_platform(py::handle value) {
    if (py::isinstance<py::str>(value)) {
        return Platform::parse(value.cast<std::string>());
    }
    if (py::isinstance<Platform>(value)) {
        return value.cast<Platform>();
    }
    throw py::type_error("a platform must be a str or xarch.Platform, not " + type_name(value));
}

std::vector<Platform> to_platforms(const py::object& value) {
    if (value.is_none()) {
        return {};
    }
    if (py::isinstance<py::str>(value)) {
        return Platform::parse_list(value.cast<std::string>());
    }
    std::vector<Platform> result;
    for (py::handle item : py::iter(value)) {
        result.push_back(to_platform(item));
    }
    return result;
}

RegistryOptions registry_options(const std::vector<std::string>& insecure_registries,
                                 const std::optional<std::string>& ca_bundle,
                                 const std::optional<std::string>& certs_dir,
                                 std::size_t jobs,
                                 int retry_attempts,
                                 const std::optional<std::string>& user_agent,
                                 std::optional<std::int64_t> chunk_threshold,
                                 std::optional<std::int64_t> chunk_size) {
    RegistryOptions options;
    options.insecure_registries = insecure_registries;
    if (ca_bundle) {
        options.ca_bundle = *ca_bundle;
    }
    if (certs_dir) {
        options.certs_dir = *certs_dir;
    }
    options.jobs = jobs;
    options.retry_attempts = retry_attempts;
    if (user_agent) {
        options.user_agent = *user_agent;
    }
    if (chunk_threshold) {
        options.chunk_threshold = *chunk_threshold;
    }
    if (chunk_size) {
        options.chunk_size = *chunk_size;
    }
    return options;
}

namespace {

// Docker's credential helpers name an identity token by this username.
constexpr std::string_view kIdentityTokenUser = "<token>";

}  // namespace

CredentialsLookup credentials_lookup(std::function<py::object(const std::string&)> call,
                                     std::function<void()> keep_exception) {
    return [call = std::move(call), keep_exception = std::move(keep_exception)](
               std::string_view registry) -> std::optional<Credentials> {
        const std::string host(registry);
        py::gil_scoped_acquire gil;
        std::pair<std::string, std::string> answer;
        try {
            py::object result = call(host);
            if (result.is_none()) {
                return std::nullopt;
            }
            answer = result.cast<std::pair<std::string, std::string>>();
        } catch (const py::cast_error&) {
            throw Error(ErrorCode::kInvalidArgument,
                        "the credentials callback must return (username, secret) or None for "
                        "registry '" +
                            host + "'");
        } catch (...) {
            keep_exception();
            throw Error(ErrorCode::kAuthentication,
                        "the credentials callback raised an exception for registry '" + host + "'");
        }
        Credentials credentials;
        if (answer.first == kIdentityTokenUser) {
            credentials.identity_token = std::move(answer.second);
        } else {
            credentials.username = std::move(answer.first);
            credentials.password = std::move(answer.second);
        }
        if (credentials.empty()) {
            return std::nullopt;
        }
        return credentials;
    };
}

}  // namespace xarch::python
