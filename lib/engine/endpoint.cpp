// SPDX-License-Identifier: Apache-2.0
// resolve_endpoint(): docker/cli's choice of engine (cli/command/cli.go resolveContextName, the
// default context from DOCKER_HOST and the TLS flags' environment defaults in
// cli/flags/options.go, context endpoints and their TLS files in cli/context/docker/load.go).
#include "engine/endpoint.hpp"

#include "registry/credentials.hpp"
#include "util/quote.hpp"
#include "util/strings.hpp"

#include <xarch/digest.hpp>
#include <xarch/error.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace xarch::engine {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void invalid(const std::string& message) {
    throw Error(ErrorCode::kInvalidArgument, message);
}

std::string env(const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr ? std::string(value) : std::string();
}

std::optional<std::string> read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

bool is_file(const fs::path& path) {
    std::error_code ec;
    return fs::is_regular_file(path, ec);
}

// A member of `object` by name, compared case-insensitively as Go's encoding/json does.
const boost::json::value* member(const boost::json::object& object, std::string_view name) {
    if (const auto* exact = object.if_contains(name)) {
        return exact;
    }
    for (const auto& entry : object) {
        if (util::equals_ignore_case(entry.key(), name)) {
            return &entry.value();
        }
    }
    return nullptr;
}

boost::json::value parse_json_file(const fs::path& path, const std::string& text) {
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(text, ec);
    if (ec) {
        invalid("cannot read " + path.string() + ": it is not valid JSON (" + ec.message() +
                "); fix or remove it");
    }
    return value;
}

// "unix:///path" or "tcp://host:port[/path]" checked and completed (the port docker/cli's
// ParseTCPAddr would add); `where` says where the text came from, for the message.
std::string normalize_host(std::string_view text, bool tls, const std::string& where) {
    const std::size_t separator = text.find("://");
    if (separator == std::string_view::npos) {
        invalid(where + " " + util::quote(text) +
                " is not a Docker Engine address: use unix:///path/to/docker.sock or "
                "tcp://host:port");
    }
    const std::string_view scheme = text.substr(0, separator);
    std::string_view rest = text.substr(separator + 3);
    for (const char c : text) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
            invalid(where + " " + util::quote(text) +
                    " is not a Docker Engine address: it holds a blank or control character");
        }
    }
    if (scheme == "unix") {
        if (rest.empty()) {
            invalid(where + " " + util::quote(text) +
                    " names no socket: use unix:///path/to/docker.sock");
        }
        return std::string(text);
    }
    if (scheme != "tcp") {
        invalid(where + " " + util::quote(text) + " uses the scheme " + util::quote(scheme) +
                ": xarch reaches a Docker Engine over unix:// or tcp:// only (for ssh://, "
                "forward the engine's socket and use unix:// or tcp://)");
    }
    const std::size_t slash = rest.find('/');
    const std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
    std::string_view authority = rest.substr(0, slash);
    std::string_view host = authority;
    std::string_view port;
    if (authority.starts_with('[')) {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            invalid(where + " " + util::quote(text) + " has an unclosed IPv6 address");
        }
        host = authority.substr(0, close + 1);
        const std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (!after.starts_with(':')) {
                invalid(where + " " + util::quote(text) + " is not tcp://host:port");
            }
            port = after.substr(1);
        }
    } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty() || host == "[]") {
        invalid(where + " " + util::quote(text) + " names no host: use tcp://host:port");
    }
    std::string chosen_port(port);
    if (chosen_port.empty()) {
        chosen_port = tls ? "2376" : "2375";  // Docker's ports for TLS and plain HTTP
    }
    const bool digits = std::all_of(chosen_port.begin(), chosen_port.end(),
                                    [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || chosen_port.size() > 5 || std::stoi(chosen_port) == 0 ||
        std::stoi(chosen_port) > 65535) {
        invalid(where + " " + util::quote(text) + " has an invalid port " +
                util::quote(chosen_port));
    }
    return "tcp://" + std::string(host) + ":" + chosen_port +
           (path == "/" ? std::string() : std::string(path));
}

bool is_tcp(std::string_view host) {
    return host.starts_with("tcp://");
}

// docker/cli's TLS switches: DOCKER_TLS_VERIFY (any value, even "0") or DOCKER_TLS.
bool environment_wants_tls() {
    return !env("DOCKER_TLS_VERIFY").empty() || !env("DOCKER_TLS").empty();
}

// The TLS settings docker/cli takes from the environment for DOCKER_HOST and -H: DOCKER_TLS_VERIFY
// (any value) turns TLS on with verification, DOCKER_TLS TLS without it; the files are ca.pem,
// cert.pem and key.pem in DOCKER_CERT_PATH, else the config folder.
void apply_environment_tls(Endpoint& endpoint, const fs::path& config_dir) {
    const bool verify = !env("DOCKER_TLS_VERIFY").empty();
    if (!environment_wants_tls() || !is_tcp(endpoint.host)) {
        return;
    }
    const std::string cert_path = env("DOCKER_CERT_PATH");
    const fs::path dir = cert_path.empty() ? config_dir : fs::path(cert_path);
    const std::string dir_source =
        cert_path.empty() ? "the Docker config folder" : "DOCKER_CERT_PATH";
    endpoint.tls = true;
    endpoint.tls_verify = verify;
    if (verify) {
        if (!is_file(dir / "ca.pem")) {
            invalid("DOCKER_TLS_VERIFY is set but " + (dir / "ca.pem").string() + " (from " +
                    dir_source +
                    ") does not exist: set DOCKER_CERT_PATH to the folder holding ca.pem, "
                    "cert.pem and key.pem, or unset DOCKER_TLS_VERIFY");
        }
        endpoint.ca = dir / "ca.pem";
    }
    const bool has_cert = is_file(dir / "cert.pem");
    const bool has_key = is_file(dir / "key.pem");
    if (has_cert != has_key) {
        invalid("the TLS client certificate in " + dir.string() + " (from " + dir_source +
                ") is incomplete: " + (has_cert ? "key.pem" : "cert.pem") + " is missing beside " +
                (has_cert ? "cert.pem" : "key.pem"));
    }
    if (has_cert) {
        endpoint.cert = dir / "cert.pem";
        endpoint.key = dir / "key.pem";
    }
}

// docker/cli's default context: $DOCKER_HOST, else the local socket, with the TLS environment.
Endpoint default_endpoint(const fs::path& config_dir) {
    Endpoint endpoint;
    std::string host = env("DOCKER_HOST");
    endpoint.source = host.empty() ? "default" : "DOCKER_HOST";
    if (host.empty()) {
        host = std::string(kDefaultDockerHost);
    }
    endpoint.host = normalize_host(host, environment_wants_tls(), endpoint.source);
    apply_environment_tls(endpoint, config_dir);
    return endpoint;
}

fs::path contexts_dir(const fs::path& config_dir) {
    return config_dir / "contexts";
}

// The names of the contexts in the store, sorted, "default" first.
std::vector<std::string> context_names(const fs::path& config_dir) {
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(contexts_dir(config_dir) / "meta", ec), end; !ec && it != end;
         it.increment(ec)) {
        const auto text = read_text(it->path() / "meta.json");
        if (!text) {
            continue;
        }
        boost::system::error_code parse_error;
        const auto value = boost::json::parse(*text, parse_error);
        if (parse_error || !value.is_object()) {
            continue;
        }
        if (const auto* name = member(value.as_object(), "Name"); name && name->is_string()) {
            names.emplace_back(name->as_string());
        }
    }
    std::sort(names.begin(), names.end());
    names.insert(names.begin(), "default");
    return names;
}

std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& name : names) {
        out += (out.empty() ? "" : ", ") + util::quote(name);
    }
    return out;
}

// docker/cli's context name rule (cli/context/store: ^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$).
bool valid_context_name(std::string_view name) {
    const auto allowed = [](char c, bool first) {
        const bool alnum =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        return alnum || (!first && (c == '_' || c == '.' || c == '+' || c == '-'));
    };
    if (name.size() < 2) {
        return false;
    }
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (!allowed(name[i], i == 0)) {
            return false;
        }
    }
    return true;
}

// The context `name` from the store; `why` says who named it, for the messages.
Endpoint context_endpoint(const std::string& name,
                          const fs::path& config_dir,
                          const std::string& why) {
    if (name == "default") {
        return default_endpoint(config_dir);
    }
    if (!valid_context_name(name)) {
        invalid(util::quote(name) + why +
                " is neither a Docker context name nor a unix:// or tcp:// address");
    }
    const std::string id(Digest::of(name).hex());  // sha256 hex of the name
    const fs::path meta_file = contexts_dir(config_dir) / "meta" / id / "meta.json";
    const auto text = read_text(meta_file);
    if (!text) {
        invalid("no Docker context named " + util::quote(name) + why + " in " +
                (contexts_dir(config_dir)).string() + "; the contexts are " +
                join(context_names(config_dir)) + " (see `docker context ls`)");
    }
    const auto value = parse_json_file(meta_file, *text);
    const boost::json::object* docker = nullptr;
    if (value.is_object()) {
        if (const auto* endpoints = member(value.as_object(), "Endpoints");
            endpoints && endpoints->is_object()) {
            if (const auto* entry = member(endpoints->as_object(), "docker");
                entry && entry->is_object()) {
                docker = &entry->as_object();
            }
        }
    }
    if (docker == nullptr) {
        invalid("the Docker context " + util::quote(name) + " (" + meta_file.string() +
                ") has no docker endpoint; recreate it with `docker context create " + name +
                " --docker host=...`");
    }
    Endpoint endpoint;
    endpoint.source = "context \"" + name + "\"";
    std::string host;
    if (const auto* h = member(*docker, "Host"); h && h->is_string()) {
        host = std::string(h->as_string());
    }
    bool skip_verify = false;
    if (const auto* skip = member(*docker, "SkipTLSVerify"); skip && skip->is_bool()) {
        skip_verify = skip->as_bool();
    }
    if (host.empty()) {
        host = std::string(kDefaultDockerHost);
    }
    const fs::path tls_dir = contexts_dir(config_dir) / "tls" / id / "docker";
    const bool has_ca = is_file(tls_dir / "ca.pem");
    const bool has_cert = is_file(tls_dir / "cert.pem");
    const bool has_key = is_file(tls_dir / "key.pem");
    // A socket needs no TLS; over tcp, TLS data or SkipTLSVerify turn it on (load.go tlsConfig).
    const bool tls = (has_ca || has_cert || has_key || skip_verify) &&
                     !std::string_view(host).starts_with("unix://");
    endpoint.host =
        normalize_host(host, tls, "the Docker context " + util::quote(name) + "'s host");
    if (tls && is_tcp(endpoint.host)) {
        endpoint.tls = true;
        endpoint.tls_verify = !skip_verify;
        if (has_ca) {
            endpoint.ca = tls_dir / "ca.pem";
        }
        // load.go uses the key pair only when both are there.
        if (has_cert && has_key) {
            endpoint.cert = tls_dir / "cert.pem";
            endpoint.key = tls_dir / "key.pem";
        }
    }
    return endpoint;
}

// config.json's "currentContext", "" when there is none.
std::string current_context(const fs::path& config_dir) {
    const fs::path file = config_dir / "config.json";
    const auto text = read_text(file);
    if (!text || util::trim(*text).empty()) {
        return {};
    }
    const auto value = parse_json_file(file, *text);
    if (!value.is_object()) {
        return {};
    }
    if (const auto* name = member(value.as_object(), "currentContext"); name && name->is_string()) {
        return std::string(name->as_string());
    }
    return {};
}

}  // namespace

std::string unix_socket_path(std::string_view host) {
    return host.starts_with("unix://") ? std::string(host.substr(7)) : std::string();
}

Endpoint resolve_endpoint(std::string_view spec, const fs::path& docker_config_dir) {
    const fs::path config_dir =
        docker_config_dir.empty() ? registry::default_docker_config_dir() : docker_config_dir;
    if (spec.empty()) {
        if (!env("DOCKER_HOST").empty()) {
            return default_endpoint(config_dir);
        }
        if (const std::string name = env("DOCKER_CONTEXT"); !name.empty()) {
            return context_endpoint(name, config_dir, " (named by DOCKER_CONTEXT)");
        }
        if (const std::string name = current_context(config_dir); !name.empty()) {
            return context_endpoint(
                name, config_dir,
                " (the currentContext of " + (config_dir / "config.json").string() + ")");
        }
        return default_endpoint(config_dir);
    }
    if (spec.find("://") != std::string_view::npos) {
        // As `docker -H` takes it: the address given, TLS from the environment.
        Endpoint endpoint;
        endpoint.source = "endpoint";
        endpoint.host = normalize_host(spec, environment_wants_tls(), "the endpoint");
        apply_environment_tls(endpoint, config_dir);
        return endpoint;
    }
    return context_endpoint(std::string(spec), config_dir, "");
}

}  // namespace xarch::engine
