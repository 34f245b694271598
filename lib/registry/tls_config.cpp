// SPDX-License-Identifier: Apache-2.0
#include "registry/tls_config.hpp"

#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <curl/curl.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

namespace xarch::registry {

namespace {

namespace fs = std::filesystem;

std::string read_pem(const fs::path& path, std::string_view what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw Error(ErrorCode::kInvalidArgument,
                    "cannot read " + std::string(what) + " " + util::quote(path.string()));
    }
    std::ostringstream text;
    text << in.rdbuf();
    std::string pem = text.str();
    if (pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
        throw Error(
            ErrorCode::kInvalidArgument,
            std::string(what) + " " + util::quote(path.string()) + " holds no PEM certificate");
    }
    if (!pem.empty() && pem.back() != '\n') {
        pem += '\n';
    }
    return pem;
}

// The files of `dir` with `extension`, sorted so that the choice among several is stable.
std::vector<fs::path> files_with(const fs::path& dir, std::string_view extension) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.path().extension() == extension) {
            out.push_back(entry.path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

std::string default_ca_file() {
    const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
    if (info != nullptr && info->cainfo != nullptr) {
        return info->cainfo;
    }
    return {};
}

TlsConfig::TlsConfig(std::string ca_bundle, std::string certs_dir)
    : ca_bundle_(std::move(ca_bundle)), certs_dir_(std::move(certs_dir)) {
    if (!ca_bundle_.empty()) {
        extra_pem_ = read_pem(ca_bundle_, "CA bundle");
    }
}

HostTls TlsConfig::for_host(std::string_view authority) {
    const std::lock_guard lock(mutex_);
    if (const auto it = hosts_.find(authority); it != hosts_.end()) {
        return it->second;
    }
    HostTls tls = load(std::string(authority));
    hosts_.emplace(std::string(authority), tls);
    return tls;
}

HostTls TlsConfig::load(const std::string& authority) const {
    TlsSettings settings;
    std::string extra = extra_pem_;
    bool pinned = false;
    std::error_code ec;
    // A host name never contains '/', but be sure it cannot climb out of certs_dir.
    const bool safe_name = !authority.empty() && authority.find('/') == std::string::npos &&
                           authority != "." && authority != "..";
    const fs::path dir = fs::path(certs_dir_) / authority;
    if (!certs_dir_.empty() && safe_name && fs::is_directory(dir, ec)) {
        for (const fs::path& crt : files_with(dir, ".crt")) {
            extra += read_pem(crt, "CA certificate");
            pinned = true;
        }
        for (const fs::path& cert : files_with(dir, ".cert")) {
            fs::path key = cert;
            key.replace_extension(".key");
            if (!fs::exists(key, ec)) {
                throw Error(ErrorCode::kInvalidArgument,
                            "client certificate " + util::quote(cert.string()) + " has no key " +
                                util::quote(key.string()));
            }
            if (settings.client_cert.empty()) {
                settings.client_cert = cert.string();
                settings.client_key = key.string();
            }
        }
        for (const fs::path& key : files_with(dir, ".key")) {
            fs::path cert = key;
            cert.replace_extension(".cert");
            if (!fs::exists(cert, ec)) {
                throw Error(ErrorCode::kInvalidArgument, "client key " + util::quote(key.string()) +
                                                             " has no certificate " +
                                                             util::quote(cert.string()));
            }
        }
    }
    if (!extra.empty()) {
        // curl takes one CA source; the system bundle goes first so that adding a CA never
        // removes the public ones.
        std::string pem;
        if (const std::string system = default_ca_file(); !system.empty()) {
            std::ifstream in(system, std::ios::binary);
            std::ostringstream text;
            text << in.rdbuf();
            pem = text.str();
            if (!pem.empty() && pem.back() != '\n') {
                pem += '\n';
            }
        }
        pem += extra;
        settings.ca_pem = std::make_shared<const std::string>(std::move(pem));
    }
    HostTls tls;
    tls.verified = std::make_shared<const TlsSettings>(settings);
    settings.verify = false;
    tls.unverified = std::make_shared<const TlsSettings>(std::move(settings));
    tls.pinned_ca = pinned;
    return tls;
}

}  // namespace xarch::registry
