// SPDX-License-Identifier: Apache-2.0
// TLS trust and client certificates per registry host: the system CAs, an extra CA bundle from
// the caller, and docker's certs.d convention (<dir>/<host[:port]>/*.crt are CAs, *.cert with
// the *.key of the same name a client certificate).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace xarch::registry {

// How the HTTP client sets up TLS for one request. Shared and immutable once made.
struct TlsSettings {
    bool verify = true;
    // PEM certificates to trust instead of curl's default file (which this bundle includes);
    // null: curl's default. Shared so that requests do not copy a 200 KiB bundle each.
    std::shared_ptr<const std::string> ca_pem;
    std::string client_cert;  // PEM file; "" for none
    std::string client_key;   // PEM file
};

// The TLS settings for one host.
struct HostTls {
    std::shared_ptr<const TlsSettings> verified;
    // The same without certificate verification, for insecure registries.
    std::shared_ptr<const TlsSettings> unverified;
    // certs.d names CAs for this host: its certificate must verify, even on an insecure or
    // loopback host, and plain HTTP is out (dockerd does the same).
    bool pinned_ca = false;
};

class TlsConfig {
public:
    // Reads `ca_bundle` (a PEM file, "" for none) now. Throws Error(kInvalidArgument) when it
    // cannot be read or holds no certificate. `certs_dir` is read lazily per host; a missing
    // folder means no per-host settings.
    TlsConfig(std::string ca_bundle, std::string certs_dir);

    // The settings for `authority` ("host", "host:port"), made on first use and kept. Throws
    // Error(kInvalidArgument) for an unreadable certs.d file, a client certificate without its
    // key or a key without its certificate.
    HostTls for_host(std::string_view authority);

    const std::string& certs_dir() const { return certs_dir_; }

private:
    HostTls load(const std::string& authority) const;

    std::string ca_bundle_;
    std::string certs_dir_;
    std::string extra_pem_;  // the bundle's certificates
    std::mutex mutex_;
    std::map<std::string, HostTls, std::less<>> hosts_;
};

// curl's default CA file (Debian: /etc/ssl/certs/ca-certificates.crt), "" when it has none.
std::string default_ca_file();

}  // namespace xarch::registry
