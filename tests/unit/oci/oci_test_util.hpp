// SPDX-License-Identifier: Apache-2.0
// Shared helpers of the OCI unit tests: a scratch directory, capturing an Error, small images.
#pragma once

#include <xarch/descriptor.hpp>
#include <xarch/error.hpp>
#include <xarch/image_index.hpp>
#include <xarch/oci_layout.hpp>

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <utility>

namespace xarch::test {

// A fresh directory under the system temporary folder, removed with everything in it.
class TempDir {
public:
    TempDir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "xarch-oci-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

// The Error that `run` throws, or nullopt when it throws nothing.
template <typename Run>
std::optional<Error> error_of(Run&& run) {
    try {
        std::forward<Run>(run)();
    } catch (const Error& e) {
        return e;
    }
    return std::nullopt;
}

// Deterministic pseudo-random bytes.
inline std::string random_bytes(std::size_t size, unsigned seed) {
    std::mt19937 random(seed);
    std::string out(size, '\0');
    for (char& c : out) {
        c = static_cast<char>(random() & 0xff);
    }
    return out;
}

// A small image stored in `layout`: a config, `layers` layers and the manifest. Returns the
// manifest's descriptor with the platform set.
inline Descriptor store_image(OciLayout& layout,
                              const std::string& architecture,
                              int layers = 2,
                              unsigned seed = 1) {
    Manifest manifest;
    ImageConfig config;
    config.architecture = architecture;
    config.os = "linux";
    for (int i = 0; i < layers; ++i) {
        const std::string layer = random_bytes(1000 + static_cast<std::size_t>(i), seed * 100 + i);
        manifest.layers.push_back(layout.store_blob(std::string(media_type::kOciLayerGzip), layer));
        config.rootfs.diff_ids.push_back(Digest::of(layer + "uncompressed"));
    }
    manifest.config = layout.store_blob(std::string(media_type::kOciConfig), config.serialize());
    const RawContent raw = manifest.to_raw();
    Descriptor out = layout.store_blob(raw.media_type, raw.bytes);
    out.platform = Platform("linux", architecture);
    return out;
}

}  // namespace xarch::test
