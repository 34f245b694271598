// SPDX-License-Identifier: Apache-2.0
// Python arguments the bindings accept in several places: a platform as str or xarch.Platform,
// platform lists ("amd64,arm64" or an iterable), registry options and the credentials callable,
// and the type name error messages quote.
#pragma once

#include "xarch/platform.hpp"
#include "xarch/registry.hpp"

#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace xarch::python {

// The Python type name of `value`, for TypeError messages.
std::string type_name(pybind11::handle value);

// A str (parsed as --platform) or an xarch.Platform; TypeError otherwise.
Platform to_platform(pybind11::handle value);

// None: no platforms (the caller's default); "amd64,arm64": a --platform list; else an iterable
// of str or Platform.
std::vector<Platform> to_platforms(const pybind11::object& value);

// The RegistryOptions the Registry and Builder keywords give, credentials and progress left to
// the caller (their Python callables live as long as the object that owns them).
RegistryOptions registry_options(const std::vector<std::string>& insecure_registries,
                                 const std::optional<std::string>& ca_bundle,
                                 const std::optional<std::string>& certs_dir,
                                 std::size_t jobs,
                                 int retry_attempts,
                                 const std::optional<std::string>& user_agent,
                                 std::optional<std::int64_t> chunk_threshold,
                                 std::optional<std::int64_t> chunk_size);

// A CredentialsLookup over a Python credentials callable (Registry's and Builder's
// `credentials`): `call(host)` calls it, the GIL held, and gives its answer, (username, secret)
// or None ("<token>" as the username makes the secret an identity token, as Docker's credential
// helpers name one); `keep_exception()` stores the exception it raised, for the binding to
// re-raise once the operation has failed.
CredentialsLookup credentials_lookup(std::function<pybind11::object(const std::string&)> call,
                                     std::function<void()> keep_exception);

}  // namespace xarch::python
