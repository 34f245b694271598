// SPDX-License-Identifier: Apache-2.0
// Digests as go-digest parses and validates them, computed with OpenSSL's EVP interface.
#include "oci/internal.hpp"
#include "util/quote.hpp"

#include <xarch/digest.hpp>
#include <xarch/error.hpp>

#include <openssl/evp.h>

#include <array>
#include <limits>
#include <ostream>
#include <string>
#include <utility>

namespace xarch {

using util::quote;

std::string_view to_string(DigestAlgorithm algorithm) noexcept {
    switch (algorithm) {
        case DigestAlgorithm::kSha256:
            return "sha256";
        case DigestAlgorithm::kSha384:
            return "sha384";
        case DigestAlgorithm::kSha512:
            return "sha512";
    }
    return "";
}

namespace {

constexpr std::array<DigestAlgorithm, 3> kAlgorithms = {
    DigestAlgorithm::kSha256, DigestAlgorithm::kSha384, DigestAlgorithm::kSha512};

std::optional<DigestAlgorithm> algorithm_named(std::string_view name) {
    for (DigestAlgorithm algorithm : kAlgorithms) {
        if (to_string(algorithm) == name) {
            return algorithm;
        }
    }
    return std::nullopt;
}

std::size_t hex_length(DigestAlgorithm algorithm) {
    switch (algorithm) {
        case DigestAlgorithm::kSha256:
            return 64;
        case DigestAlgorithm::kSha384:
            return 96;
        case DigestAlgorithm::kSha512:
            return 128;
    }
    return 0;
}

const EVP_MD* evp_of(DigestAlgorithm algorithm) {
    switch (algorithm) {
        case DigestAlgorithm::kSha256:
            return EVP_sha256();
        case DigestAlgorithm::kSha384:
            return EVP_sha384();
        case DigestAlgorithm::kSha512:
            return EVP_sha512();
    }
    return nullptr;
}

bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_separator(char c) {
    return c == '+' || c == '.' || c == '_' || c == '-';
}
bool is_encoded_char(char c) {
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '=' || c == '_' || c == '-';
}
bool is_lower_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

[[noreturn]] void fail(std::string_view text, const std::string& why) {
    throw Error(ErrorCode::kInvalidArgument, "invalid digest " + quote(text) + ": " + why);
}

// Checks `text` against the OCI grammar; with `registered_only` an unknown algorithm is an error
// too. Returns where the ':' is.
std::size_t validate(std::string_view text, bool registered_only) {
    if (text.empty()) {
        fail(text, "empty, expected <algorithm>:<hex> such as sha256:<64 hex digits>");
    }
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos) {
        fail(text, "no ':' between the algorithm and the encoded digest");
    }
    const std::string_view algorithm = text.substr(0, colon);
    const std::string_view encoded = text.substr(colon + 1);
    if (algorithm.empty()) {
        fail(text, "the algorithm before ':' is empty");
    }
    for (std::size_t i = 0; i < algorithm.size(); ++i) {
        const char c = algorithm[i];
        if (c >= 'A' && c <= 'Z') {
            fail(text, "the algorithm must be lowercase");
        }
        if (is_separator(c)) {
            if (i == 0 || i + 1 == algorithm.size() || is_separator(algorithm[i - 1])) {
                fail(text, "the algorithm " + quote(algorithm) +
                               " has a separator at its start or end, or two in a row");
            }
        } else if (!is_lower_alnum(c)) {
            fail(text, "the algorithm " + quote(algorithm) + " has a character outside " +
                           "[a-z0-9+._-]");
        }
    }
    if (encoded.empty()) {
        fail(text, "the encoded digest after ':' is empty");
    }
    const std::optional<DigestAlgorithm> known = algorithm_named(algorithm);
    if (!known) {
        if (registered_only) {
            fail(text, "unsupported algorithm " + quote(algorithm) +
                           " (xarch computes sha256, sha384 and sha512)");
        }
        for (char c : encoded) {
            if (!is_encoded_char(c)) {
                fail(text, "the encoded digest has a character outside [a-zA-Z0-9=_-]");
            }
        }
        return colon;
    }
    for (char c : encoded) {
        if ((c >= 'A' && c <= 'F')) {
            fail(text, "the hex digits must be lowercase");
        }
        if (!is_lower_hex(c)) {
            fail(text, "the encoded digest must be hex digits [0-9a-f]");
        }
    }
    const std::size_t wanted = hex_length(*known);
    if (encoded.size() != wanted) {
        fail(text, "has " + std::to_string(encoded.size()) + " hex digits, " +
                       std::string(algorithm) + " needs " + std::to_string(wanted));
    }
    return colon;
}

}  // namespace

Digest Digest::parse(std::string_view text) {
    validate(text, true);
    return Digest(std::string(text));
}

Digest Digest::parse_any_algorithm(std::string_view text) {
    validate(text, false);
    return Digest(std::string(text));
}

Digest Digest::of(std::span<const std::byte> bytes, DigestAlgorithm algorithm) {
    Hasher hasher(algorithm);
    hasher.update(bytes);
    return hasher.finish();
}

Digest Digest::of(std::string_view bytes, DigestAlgorithm algorithm) {
    Hasher hasher(algorithm);
    hasher.update(bytes);
    return hasher.finish();
}

std::string_view Digest::algorithm() const noexcept {
    const std::string_view value = value_;
    return value.substr(0, value.find(':'));
}

std::optional<DigestAlgorithm> Digest::registered_algorithm() const noexcept {
    return algorithm_named(algorithm());
}

std::string_view Digest::hex() const noexcept {
    const std::string_view value = value_;
    const std::size_t colon = value.find(':');
    return colon == std::string_view::npos ? std::string_view() : value.substr(colon + 1);
}

std::ostream& operator<<(std::ostream& out, const Digest& digest) {
    return out << digest.to_string();
}

// ---- Hasher ----

class Hasher::Impl {
public:
    explicit Impl(DigestAlgorithm algorithm) : algorithm_(algorithm), context_(EVP_MD_CTX_new()) {
        if (context_ == nullptr || EVP_DigestInit_ex(context_, evp_of(algorithm), nullptr) != 1) {
            EVP_MD_CTX_free(context_);
            throw Error(ErrorCode::kInternal,
                        "OpenSSL cannot start a " + std::string(to_string(algorithm)) + " digest");
        }
    }
    ~Impl() { EVP_MD_CTX_free(context_); }
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    void update(const void* data, std::size_t size) {
        check();
        if (size > 0 && EVP_DigestUpdate(context_, data, size) != 1) {
            throw Error(ErrorCode::kInternal, "OpenSSL digest update failed");
        }
        size_ += static_cast<std::int64_t>(size);
    }

    Digest finish() {
        check();
        std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
        unsigned int length = 0;
        if (EVP_DigestFinal_ex(context_, out.data(), &length) != 1) {
            throw Error(ErrorCode::kInternal, "OpenSSL digest final failed");
        }
        finished_ = true;
        constexpr std::string_view kHex = "0123456789abcdef";
        std::string text(to_string(algorithm_));
        text += ':';
        for (unsigned int i = 0; i < length; ++i) {
            text += kHex[out[i] >> 4];
            text += kHex[out[i] & 0xf];
        }
        return oci::make_digest(std::move(text));
    }

    std::int64_t size() const noexcept { return size_; }

private:
    void check() const {
        if (finished_) {
            throw Error(ErrorCode::kInternal, "digest used after finish()");
        }
    }

    DigestAlgorithm algorithm_;
    EVP_MD_CTX* context_;
    std::int64_t size_ = 0;
    bool finished_ = false;
};

Hasher::Hasher(DigestAlgorithm algorithm) : impl_(std::make_unique<Impl>(algorithm)) {}
Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::update(std::span<const std::byte> bytes) {
    impl_->update(bytes.data(), bytes.size());
}

void Hasher::update(std::string_view bytes) {
    impl_->update(bytes.data(), bytes.size());
}

Digest Hasher::finish() {
    return impl_->finish();
}

std::int64_t Hasher::size() const noexcept {
    return impl_ ? impl_->size() : 0;
}

// ---- DigestVerifier ----

namespace {

DigestAlgorithm computable(const Digest& expected) {
    if (expected.empty()) {
        throw Error(ErrorCode::kInvalidArgument, "cannot verify content against an empty digest");
    }
    const std::optional<DigestAlgorithm> algorithm = expected.registered_algorithm();
    if (!algorithm) {
        throw Error(ErrorCode::kUnsupported, "cannot verify " + quote(expected.to_string()) +
                                                 ": xarch does not compute " +
                                                 quote(expected.algorithm()) + " digests");
    }
    return *algorithm;
}

std::string describe(const Digest& digest, std::optional<std::int64_t> size) {
    std::string out = digest.to_string();
    if (size) {
        out += " (" + std::to_string(*size) + " bytes)";
    }
    return out;
}

}  // namespace

DigestVerifier::DigestVerifier(Digest expected, std::optional<std::int64_t> expected_size)
    : expected_(std::move(expected)),
      expected_size_(expected_size),
      hasher_(computable(expected_)) {
    if (expected_size_ && *expected_size_ < 0) {
        throw Error(ErrorCode::kInvalidArgument, "negative expected size " +
                                                     std::to_string(*expected_size_) + " for " +
                                                     expected_.to_string());
    }
}

void DigestVerifier::update(std::span<const std::byte> bytes) {
    if (expected_size_ && static_cast<std::uint64_t>(hasher_.size()) + bytes.size() >
                              static_cast<std::uint64_t>(*expected_size_)) {
        throw Error(ErrorCode::kDigestMismatch,
                    "content of " + describe(expected_, expected_size_) + " is longer: " +
                        std::to_string(static_cast<std::uint64_t>(hasher_.size()) + bytes.size()) +
                        " bytes or more arrived");
    }
    hasher_.update(bytes);
}

void DigestVerifier::update(std::string_view bytes) {
    update(std::as_bytes(std::span<const char>(bytes.data(), bytes.size())));
}

void DigestVerifier::finish() {
    const std::int64_t size = hasher_.size();
    const Digest actual = hasher_.finish();
    if (actual != expected_ || (expected_size_ && size != *expected_size_)) {
        throw Error(ErrorCode::kDigestMismatch,
                    "content does not match its descriptor: expected " +
                        describe(expected_, expected_size_) + ", got " +
                        describe(actual, expected_size_ ? std::optional(size) : std::nullopt));
    }
}

// ---- ChainID ----

std::vector<Digest> chain_ids(std::span<const Digest> diff_ids) {
    std::vector<Digest> out;
    out.reserve(diff_ids.size());
    for (const Digest& diff_id : diff_ids) {
        if (out.empty()) {
            out.push_back(diff_id);
        } else {
            out.push_back(
                oci::make_digest(oci::chain_id_step(out.back().to_string(), diff_id.to_string())));
        }
    }
    return out;
}

Digest chain_id(std::span<const Digest> diff_ids) {
    if (diff_ids.empty()) {
        throw Error(ErrorCode::kInvalidArgument, "an empty layer stack has no ChainID");
    }
    return chain_ids(diff_ids).back();
}

namespace oci {

Digest make_digest(std::string text) {
    return Digest::parse_any_algorithm(text);
}

std::string chain_id_step(std::string_view parent, std::string_view diff_id) {
    std::string joined(parent);
    joined += ' ';
    joined += diff_id;
    return Digest::of(joined).to_string();
}

}  // namespace oci

}  // namespace xarch
