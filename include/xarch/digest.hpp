// SPDX-License-Identifier: Apache-2.0
// xarch::Digest: a content digest (`sha256:<hex>`) parsed and validated by the OCI grammar as
// go-digest does it, computed with a streaming Hasher, and checked by a DigestVerifier; and the
// ChainID of a layer stack, as image-spec's identity package defines it.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xarch {

// The algorithms xarch computes. They are the ones go-digest registers, so these and only these
// get the strict checks of parse() (lowercase hex of the algorithm's exact length).
enum class DigestAlgorithm {
    kSha256 = 1,
    kSha384 = 2,
    kSha512 = 3,
};

// "sha256", "sha384", "sha512".
std::string_view to_string(DigestAlgorithm algorithm) noexcept;

class Digest {
public:
    // The empty value (empty() is true, to_string() is ""): a Descriptor not filled in yet.
    Digest() = default;

    // "<algorithm>:<encoded>" with a registered algorithm and lowercase hex of its length:
    // "sha256:" + 64 hex digits. Throws Error(kInvalidArgument) quoting the input and saying what
    // is wrong: no ':', a malformed or unknown algorithm, uppercase or non-hex characters, the
    // wrong length.
    static Digest parse(std::string_view text);

    // What the OCI descriptor grammar allows:
    //   algorithm ::= component ([+._-] component)*, component ::= [a-z0-9]+
    //   encoded   ::= [a-zA-Z0-9=_-]+
    // A registered algorithm is still held to parse()'s rules; an unknown one ("sha256+b64u",
    // "multihash+base58") is kept as written, so documents that other tools wrote with newer
    // algorithms survive a round trip. Such a digest cannot be computed or verified
    // (Error(kUnsupported) from the functions that would). Throws Error(kInvalidArgument).
    static Digest parse_any_algorithm(std::string_view text);

    // The digest of `bytes`.
    static Digest of(std::span<const std::byte> bytes,
                     DigestAlgorithm algorithm = DigestAlgorithm::kSha256);
    static Digest of(std::string_view bytes, DigestAlgorithm algorithm = DigestAlgorithm::kSha256);

    bool empty() const noexcept { return value_.empty(); }
    // The algorithm as written: "sha256".
    std::string_view algorithm() const noexcept;
    // The algorithm when it is one xarch computes; nullopt for an unknown one or the empty value.
    std::optional<DigestAlgorithm> registered_algorithm() const noexcept;
    // The encoded part after ':' (lowercase hex for the registered algorithms).
    std::string_view hex() const noexcept;
    // "sha256:<hex>".
    const std::string& to_string() const noexcept { return value_; }

    friend bool operator==(const Digest&, const Digest&) = default;
    friend std::strong_ordering operator<=>(const Digest& a, const Digest& b) noexcept {
        return a.value_ <=> b.value_;
    }

private:
    explicit Digest(std::string value) noexcept : value_(std::move(value)) {}
    std::string value_;
};

std::ostream& operator<<(std::ostream& out, const Digest& digest);

// Computes a digest over data given in pieces. Move-only.
class Hasher {
public:
    explicit Hasher(DigestAlgorithm algorithm = DigestAlgorithm::kSha256);
    ~Hasher();
    Hasher(Hasher&&) noexcept;
    Hasher& operator=(Hasher&&) noexcept;
    Hasher(const Hasher&) = delete;
    Hasher& operator=(const Hasher&) = delete;

    void update(std::span<const std::byte> bytes);
    void update(std::string_view bytes);
    // The digest of everything given so far. The hasher is spent afterwards: a further update()
    // or finish() throws Error(kInternal).
    Digest finish();
    // How many bytes were given so far.
    std::int64_t size() const noexcept;

    class Impl;

private:
    std::unique_ptr<Impl> impl_;
};

// Checks that content arriving in pieces is exactly what a descriptor promised: its size and its
// digest. Use it while reading a blob from the network or from disk, then call finish().
class DigestVerifier {
public:
    // `expected_size` nullopt when the size is not known beforehand. Throws Error(kUnsupported)
    // when `expected` has an algorithm xarch cannot compute, Error(kInvalidArgument) when it is
    // empty or the size is negative.
    explicit DigestVerifier(Digest expected,
                            std::optional<std::int64_t> expected_size = std::nullopt);

    // Throws Error(kDigestMismatch) as soon as more bytes arrive than the expected size, so that
    // an endless or oversized stream is cut short.
    void update(std::span<const std::byte> bytes);
    void update(std::string_view bytes);
    // Throws Error(kDigestMismatch) naming the expected and the actual digest and size when they
    // differ. The verifier is spent afterwards.
    void finish();

    const Digest& expected() const noexcept { return expected_; }
    // Bytes seen so far.
    std::int64_t size() const noexcept { return hasher_.size(); }

private:
    Digest expected_;
    std::optional<std::int64_t> expected_size_;
    Hasher hasher_;
};

// The ChainID of each prefix of a layer stack given by its DiffIDs (the config's
// rootfs.diff_ids), as image-spec's identity package defines it: ChainID(L0) = DiffID(L0) and
// ChainID(L0..Ln) = sha256(ChainID(L0..Ln-1) + " " + DiffID(Ln)). A snapshotter names the
// snapshot of each layer by it. Empty for an empty stack.
std::vector<Digest> chain_ids(std::span<const Digest> diff_ids);

// The ChainID of the whole stack: chain_ids(diff_ids).back(). Throws Error(kInvalidArgument) for
// an empty stack, which has none.
Digest chain_id(std::span<const Digest> diff_ids);

}  // namespace xarch

template <>
struct std::hash<xarch::Digest> {
    std::size_t operator()(const xarch::Digest& digest) const noexcept {
        return std::hash<std::string>{}(digest.to_string());
    }
};
