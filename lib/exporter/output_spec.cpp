// SPDX-License-Identifier: Apache-2.0
// buildx's --output and --cache-to/--cache-from values: the CSV syntax and its shorthands
// (util/buildflags ExportEntry and CacheOptionsEntry, build.CreateExports), parsed into
// OutputSpec and CacheSpec.
#include "exporter/csv_fields.hpp"
#include "exporter/exporter.hpp"
#include "util/quote.hpp"
#include "util/strings.hpp"

#include <xarch/builder.hpp>
#include <xarch/error.hpp>

#include <charconv>
#include <string>
#include <utility>

namespace xarch {
namespace {

[[noreturn]] void invalid(std::string message) {
    throw Error(ErrorCode::kInvalidArgument, std::move(message));
}

// Go's strconv.ParseBool, which buildx and BuildKit use for every boolean attribute.
bool parse_bool(std::string_view key, std::string_view value) {
    for (std::string_view yes : {"1", "t", "T", "TRUE", "true", "True"}) {
        if (value == yes) {
            return true;
        }
    }
    for (std::string_view no : {"0", "f", "F", "FALSE", "false", "False"}) {
        if (value == no) {
            return false;
        }
    }
    invalid("invalid boolean " + util::quote(value) + " for " + std::string(key) +
            ": use true or false");
}

Compression parse_compression(std::string_view value) {
    if (value == "gzip") {
        return Compression::kGzip;
    }
    if (value == "zstd") {
        return Compression::kZstd;
    }
    if (value == "uncompressed") {
        return Compression::kUncompressed;
    }
    invalid("unsupported compression type " + util::quote(value) +
            ": use gzip, zstd or uncompressed");
}

int parse_level(std::string_view value) {
    int level = 0;
    const auto* end = value.data() + value.size();
    const auto [ptr, ec] = std::from_chars(value.data(), end, level);
    if (value.empty() || ec != std::errc{} || ptr != end) {
        invalid("non-int value " + util::quote(value) + " specified for compression-level");
    }
    return level;
}

OutputSpec::Type parse_type(std::string_view value) {
    using Type = OutputSpec::Type;
    if (value == "registry") {
        return Type::kRegistry;
    }
    if (value == "image") {
        return Type::kImage;
    }
    if (value == "oci") {
        return Type::kOci;
    }
    if (value == "docker") {
        return Type::kDocker;
    }
    if (value == "local") {
        return Type::kLocal;
    }
    if (value == "tar") {
        return Type::kTar;
    }
    invalid("unsupported output type " + util::quote(value) +
            ": use registry, image, oci, docker, local or tar");
}

std::vector<std::string> split_names(std::string_view value) {
    std::vector<std::string> names;
    std::size_t start = 0;
    while (start <= value.size()) {
        const std::size_t comma = std::min(value.find(',', start), value.size());
        const std::string_view name = util::trim(value.substr(start, comma - start));
        if (!name.empty()) {
            names.emplace_back(name);
        }
        start = comma + 1;
    }
    return names;
}

// An attribute with its meaning on `spec`, or kept as given.
void apply_attribute(OutputSpec& spec, const std::string& key, const std::string& value) {
    if (key == "push") {
        spec.push = parse_bool(key, value);
    } else if (key == "name") {
        for (auto& name : split_names(value)) {
            spec.names.push_back(std::move(name));
        }
    } else if (key == "compression") {
        spec.compression = parse_compression(value);
    } else if (key == "compression-level") {
        spec.compression_level = parse_level(value);
    } else if (key == "force-compression") {
        spec.force_compression = parse_bool(key, value);
    } else if (key == "oci-mediatypes") {
        spec.oci_media_types = parse_bool(key, value);
    } else if (key == "tar") {
        spec.tar = parse_bool(key, value);
    } else {
        spec.attributes[key] = value;
    }
}

// What CreateExports refuses for a destination, decided from the value alone.
void check_destination(const OutputSpec& spec, std::string_view text) {
    using Type = OutputSpec::Type;
    const bool directory = spec.type == Type::kLocal || (spec.type == Type::kOci && !spec.tar);
    const char* name = spec.type == Type::kLocal ? "local" : "oci";
    if (directory && spec.dest.empty()) {
        invalid("dest is required for " + std::string(name) + " exporter in output " +
                util::quote(text) + ": add dest=DIR");
    }
    if (directory && spec.dest == "-") {
        invalid("dest cannot be stdout for " + std::string(name) + " exporter in output " +
                util::quote(text) + ": give a directory");
    }
    if (spec.type == Type::kDocker && !spec.tar) {
        invalid("tar=false is not supported by the docker exporter in output " + util::quote(text) +
                ": use type=oci,tar=false for a layout directory");
    }
}

}  // namespace

std::string_view to_string(Compression compression) noexcept {
    switch (compression) {
        case Compression::kGzip:
            return "gzip";
        case Compression::kZstd:
            return "zstd";
        case Compression::kUncompressed:
            return "uncompressed";
    }
    return "gzip";
}

OutputSpec OutputSpec::parse(std::string_view text) {
    const auto fields = exporter::csv_fields(text, "output");
    OutputSpec spec;
    // buildx: one field that is the whole value and no type= is a path (local) or "-" (tar
    // to standard output).
    if (fields.size() == 1 && fields.front() == text && !text.starts_with("type=")) {
        spec.type = text == "-" ? Type::kTar : Type::kLocal;
        spec.dest = std::string(text);
        return spec;
    }
    std::string type;
    std::vector<std::pair<std::string, std::string>> attributes;
    for (const auto& field : fields) {
        const std::size_t equals = field.find('=');
        if (equals == std::string::npos) {
            invalid("invalid value " + util::quote(field) + " in output " + util::quote(text) +
                    ": give key=value pairs");
        }
        const std::string key =
            util::to_lower_ascii(util::trim(std::string_view(field).substr(0, equals)));
        std::string value = field.substr(equals + 1);
        if (key == "type") {
            type = std::move(value);
        } else if (key == "dest") {
            spec.dest = std::move(value);
        } else {
            attributes.emplace_back(key, std::move(value));
        }
    }
    if (type.empty()) {
        invalid("type is required for output " + util::quote(text) +
                ": add type=registry, image, oci, docker, local or tar");
    }
    spec.type = parse_type(type);
    for (const auto& [key, value] : attributes) {
        apply_attribute(spec, key, value);
    }
    // buildx's CreateExports: registry is the image exporter with push=true.
    if (spec.type == Type::kRegistry) {
        spec.push = true;
    }
    if (spec.dest.empty() && (spec.type == Type::kTar || (spec.type == Type::kOci && spec.tar))) {
        spec.dest = "-";
    }
    check_destination(spec, text);
    return spec;
}

CacheSpec CacheSpec::parse(std::string_view text) {
    const auto fields = exporter::csv_fields(text, "cache option");
    CacheSpec spec;
    if (fields.size() == 1 && fields.front().find('=') == std::string::npos) {
        spec.ref = fields.front();
        return spec;
    }
    spec.type.clear();
    for (const auto& field : fields) {
        const std::size_t equals = field.find('=');
        if (equals == std::string::npos) {
            invalid("invalid value " + util::quote(field) + " in cache option " +
                    util::quote(text) + ": give key=value pairs");
        }
        const std::string key = util::to_lower_ascii(std::string_view(field).substr(0, equals));
        std::string value = field.substr(equals + 1);
        if (key == "type") {
            spec.type = std::move(value);
        } else if (key == "ref") {
            spec.ref = std::move(value);
        } else if (key == "dest") {
            spec.dest = std::move(value);
        } else if (key == "src") {
            spec.src = std::move(value);
        } else if (key == "mode") {
            if (value != "min" && value != "max") {
                invalid("invalid cache mode " + util::quote(value) + " in " + util::quote(text) +
                        ": use mode=min or mode=max");
            }
            spec.mode = std::move(value);
        } else {
            spec.attributes[key] = std::move(value);
        }
    }
    if (spec.type.empty()) {
        invalid("type required for " + util::quote(text) + ": add type=registry or type=local");
    }
    if (spec.type == "registry" && spec.ref.empty()) {
        invalid("ref is required for registry cache " + util::quote(text) +
                ": add ref=REGISTRY/REPOSITORY:TAG");
    }
    if (spec.type == "local" && spec.dest.empty() && spec.src.empty()) {
        invalid("local cache " + util::quote(text) +
                " needs dest=DIR (--cache-to) or src=DIR (--cache-from)");
    }
    return spec;
}

namespace exporter {

std::string_view type_name(OutputSpec::Type type) {
    using Type = OutputSpec::Type;
    switch (type) {
        case Type::kRegistry:
            return "registry";
        case Type::kImage:
            return "image";
        case Type::kOci:
            return "oci";
        case Type::kDocker:
            return "docker";
        case Type::kLocal:
            return "local";
        case Type::kTar:
            return "tar";
    }
    return "unknown";
}

}  // namespace exporter
}  // namespace xarch
