// SPDX-License-Identifier: Apache-2.0
// Image configs: the config schema of image-spec plus Docker's additions (Healthcheck, OnBuild,
// Shell). Fields that are not modelled are kept as JSON text so that nothing is dropped.
#include "oci/formats.hpp"
#include "oci/internal.hpp"
#include "oci/json.hpp"
#include "util/quote.hpp"

#include <xarch/descriptor.hpp>
#include <xarch/error.hpp>
#include <xarch/image_index.hpp>

#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace xarch {

using oci::json::join;
using oci::json::Reader;
using oci::json::Writer;
using oci::json::bj::object;
using oci::json::bj::value;
using util::quote;

namespace {

// The keys each object has in the model; anything else goes to its `extra` map.
const std::set<std::string_view> kImageKeys = {
    "created",     "author",  "architecture", "os",     "os.version",
    "os.features", "variant", "config",       "rootfs", "history"};
const std::set<std::string_view> kContainerKeys = {
    "User",   "ExposedPorts", "Env",         "Entrypoint",  "Cmd",     "Volumes", "WorkingDir",
    "Labels", "StopSignal",   "ArgsEscaped", "Healthcheck", "OnBuild", "Shell"};
const std::set<std::string_view> kHealthKeys = {"Test",        "Interval",      "Timeout",
                                                "StartPeriod", "StartInterval", "Retries"};
const std::set<std::string_view> kRootFsKeys = {"type", "diff_ids"};
const std::set<std::string_view> kHistoryKeys = {"created", "created_by", "author", "comment",
                                                 "empty_layer"};

RawJsonFields extra_of(const object& fields, const std::set<std::string_view>& known) {
    RawJsonFields out;
    for (const auto& member : fields) {
        const std::string_view key(member.key().data(), member.key().size());
        if (!known.contains(key)) {
            out[std::string(key)] = oci::json::to_text(member.value());
        }
    }
    return out;
}

std::string optional_string(const Reader& reader,
                            const object& fields,
                            std::string_view key,
                            std::string_view path) {
    const value* v = reader.optional(fields, key, path);
    return v == nullptr ? std::string() : reader.string(*v, join(path, key));
}

std::string date_time(const Reader& reader,
                      const object& fields,
                      std::string_view key,
                      std::string_view path) {
    std::string text = optional_string(reader, fields, key, path);
    if (reader.optional(fields, key, path) != nullptr && !oci::is_date_time(text)) {
        reader.fail(join(path, key), "is not an RFC 3339 date-time: " + quote(text));
    }
    return text;
}

std::optional<std::vector<std::string>> optional_strings(const Reader& reader,
                                                         const object& fields,
                                                         std::string_view key,
                                                         std::string_view path) {
    const value* v = reader.optional(fields, key, path, true);
    if (v == nullptr) {
        return std::nullopt;
    }
    return reader.strings(*v, join(path, key));
}

std::chrono::nanoseconds duration(const Reader& reader,
                                  const object& fields,
                                  std::string_view key,
                                  std::string_view path) {
    const value* v = reader.optional(fields, key, path);
    return std::chrono::nanoseconds(v == nullptr ? 0 : reader.integer(*v, join(path, key)));
}

HealthConfig read_health(const Reader& reader, const value& field, const std::string& path) {
    const object& fields = reader.object(field, path);
    HealthConfig out;
    if (const value* v = reader.optional(fields, "Test", path)) {
        out.test = reader.strings(*v, join(path, "Test"));
    }
    out.interval = duration(reader, fields, "Interval", path);
    out.timeout = duration(reader, fields, "Timeout", path);
    out.start_period = duration(reader, fields, "StartPeriod", path);
    out.start_interval = duration(reader, fields, "StartInterval", path);
    if (const value* v = reader.optional(fields, "Retries", path)) {
        const std::int64_t retries = reader.integer(*v, join(path, "Retries"));
        if (retries < std::numeric_limits<int>::min() ||
            retries > std::numeric_limits<int>::max()) {
            reader.fail(join(path, "Retries"), "is out of range: " + std::to_string(retries));
        }
        out.retries = static_cast<int>(retries);
    }
    out.extra = extra_of(fields, kHealthKeys);
    return out;
}

ContainerConfig read_container(const Reader& reader, const value& field, const std::string& path) {
    const object& fields = reader.object(field, path);
    ContainerConfig out;
    out.user = optional_string(reader, fields, "User", path);
    if (const value* v = reader.optional(fields, "ExposedPorts", path)) {
        out.exposed_ports = reader.object_keys(*v, join(path, "ExposedPorts"));
    }
    if (const value* v = reader.optional(fields, "Env", path)) {
        const std::string env_path = join(path, "Env");
        out.env = reader.strings(*v, env_path);
        // image-spec's validator requires ^[^=]+=.*$ of each entry: a name, then '='.
        for (std::size_t i = 0; i < out.env.size(); ++i) {
            const std::size_t equals = out.env[i].find('=');
            if (equals == std::string::npos || equals == 0) {
                reader.fail(join(env_path, i), "must be NAME=value, got " + quote(out.env[i]));
            }
        }
    }
    out.entrypoint = optional_strings(reader, fields, "Entrypoint", path);
    out.cmd = optional_strings(reader, fields, "Cmd", path);
    if (const value* v = reader.optional(fields, "Volumes", path, true)) {
        out.volumes = reader.object_keys(*v, join(path, "Volumes"));
    }
    out.working_dir = optional_string(reader, fields, "WorkingDir", path);
    if (const value* v = reader.optional(fields, "Labels", path, true)) {
        out.labels = reader.string_map(*v, join(path, "Labels"));
    }
    out.stop_signal = optional_string(reader, fields, "StopSignal", path);
    if (const value* v = reader.optional(fields, "ArgsEscaped", path)) {
        out.args_escaped = reader.boolean(*v, join(path, "ArgsEscaped"));
    }
    // Docker's additions are outside the OCI schema, which therefore says nothing against null.
    if (const value* v = reader.optional(fields, "Healthcheck", path, true)) {
        out.healthcheck = read_health(reader, *v, join(path, "Healthcheck"));
    }
    if (const value* v = reader.optional(fields, "OnBuild", path, true)) {
        out.on_build = reader.strings(*v, join(path, "OnBuild"));
    }
    out.shell = optional_strings(reader, fields, "Shell", path);
    out.extra = extra_of(fields, kContainerKeys);
    return out;
}

RootFs read_rootfs(const Reader& reader, const value& field) {
    const std::string path = "rootfs";
    const object& fields = reader.object(field, path);
    RootFs out;
    out.type = reader.string(reader.required(fields, "type", path), join(path, "type"));
    if (out.type != "layers") {
        reader.fail(join(path, "type"), "must be \"layers\", got " + quote(out.type));
    }
    const std::string ids_path = join(path, "diff_ids");
    const value& ids = reader.required(fields, "diff_ids", path);
    const std::vector<std::string> texts = reader.strings(ids, ids_path);
    for (std::size_t i = 0; i < texts.size(); ++i) {
        try {
            out.diff_ids.push_back(Digest::parse_any_algorithm(texts[i]));
        } catch (const Error& e) {
            reader.fail(join(ids_path, i), std::string("holds an ") + e.what());
        }
    }
    out.extra = extra_of(fields, kRootFsKeys);
    return out;
}

History read_history(const Reader& reader, const value& field, const std::string& path) {
    const object& fields = reader.object(field, path);
    History out;
    out.created = date_time(reader, fields, "created", path);
    out.created_by = optional_string(reader, fields, "created_by", path);
    out.author = optional_string(reader, fields, "author", path);
    out.comment = optional_string(reader, fields, "comment", path);
    if (const value* v = reader.optional(fields, "empty_layer", path)) {
        out.empty_layer = reader.boolean(*v, join(path, "empty_layer"));
    }
    out.extra = extra_of(fields, kHistoryKeys);
    return out;
}

// ---- writing ----

void write_optional_string(Writer& writer, std::string_view key, const std::string& text) {
    if (!text.empty()) {
        writer.key(key);
        writer.string(text);
    }
}

void write_duration(Writer& writer, std::string_view key, std::chrono::nanoseconds duration) {
    if (duration.count() != 0) {
        writer.key(key);
        writer.integer(duration.count());
    }
}

void write_health(Writer& writer, const HealthConfig& health) {
    writer.begin_object();
    if (!health.test.empty()) {
        writer.key("Test");
        writer.strings(health.test);
    }
    write_duration(writer, "Interval", health.interval);
    write_duration(writer, "Timeout", health.timeout);
    write_duration(writer, "StartPeriod", health.start_period);
    write_duration(writer, "StartInterval", health.start_interval);
    if (health.retries != 0) {
        writer.key("Retries");
        writer.integer(health.retries);
    }
    oci::json::write_extra(writer, health.extra, kHealthKeys);
    writer.end_object();
}

void write_container(Writer& writer, const ContainerConfig& config) {
    writer.begin_object();
    write_optional_string(writer, "User", config.user);
    if (!config.exposed_ports.empty()) {
        writer.key("ExposedPorts");
        writer.empty_objects(config.exposed_ports);
    }
    if (!config.env.empty()) {
        writer.key("Env");
        writer.strings(config.env);
    }
    if (config.entrypoint) {
        writer.key("Entrypoint");
        writer.strings(*config.entrypoint);
    }
    if (config.cmd) {
        writer.key("Cmd");
        writer.strings(*config.cmd);
    }
    if (!config.volumes.empty()) {
        writer.key("Volumes");
        writer.empty_objects(config.volumes);
    }
    write_optional_string(writer, "WorkingDir", config.working_dir);
    if (!config.labels.empty()) {
        writer.key("Labels");
        writer.string_map(config.labels);
    }
    write_optional_string(writer, "StopSignal", config.stop_signal);
    if (config.args_escaped) {
        writer.key("ArgsEscaped");
        writer.boolean(true);
    }
    if (config.healthcheck) {
        writer.key("Healthcheck");
        write_health(writer, *config.healthcheck);
    }
    if (!config.on_build.empty()) {
        writer.key("OnBuild");
        writer.strings(config.on_build);
    }
    if (config.shell) {
        writer.key("Shell");
        writer.strings(*config.shell);
    }
    oci::json::write_extra(writer, config.extra, kContainerKeys);
    writer.end_object();
}

void write_history(Writer& writer, const History& entry) {
    writer.begin_object();
    write_optional_string(writer, "created", entry.created);
    write_optional_string(writer, "created_by", entry.created_by);
    write_optional_string(writer, "author", entry.author);
    write_optional_string(writer, "comment", entry.comment);
    if (entry.empty_layer) {
        writer.key("empty_layer");
        writer.boolean(true);
    }
    oci::json::write_extra(writer, entry.extra, kHistoryKeys);
    writer.end_object();
}

}  // namespace

ImageConfig parse_config(std::string_view json, Validation validation) {
    const value document = oci::json::parse_document(json, "config");
    const Reader reader("config", validation);
    const object& fields = reader.object(document, "");
    ImageConfig out;
    out.created = date_time(reader, fields, "created", "");
    out.author = optional_string(reader, fields, "author", "");
    out.architecture = reader.string(reader.required(fields, "architecture", ""), "architecture");
    out.os = reader.string(reader.required(fields, "os", ""), "os");
    out.os_version = optional_string(reader, fields, "os.version", "");
    if (const value* v = reader.optional(fields, "os.features", "")) {
        out.os_features = reader.strings(*v, "os.features");
    }
    out.variant = optional_string(reader, fields, "variant", "");
    if (const value* v = reader.optional(fields, "config", "")) {
        out.config = read_container(reader, *v, "config");
    }
    out.rootfs = read_rootfs(reader, reader.required(fields, "rootfs", ""));
    if (const value* v = reader.optional(fields, "history", "")) {
        const auto& items = reader.array(*v, "history");
        for (std::size_t i = 0; i < items.size(); ++i) {
            out.history.push_back(read_history(reader, items[i], join("history", i)));
        }
    }
    out.extra = extra_of(fields, kImageKeys);
    return out;
}

Platform ImageConfig::platform() const {
    return Platform(os, architecture, variant, os_version, os_features);
}

std::string ImageConfig::serialize() const {
    Writer writer;
    writer.begin_object();
    write_optional_string(writer, "created", created);
    write_optional_string(writer, "author", author);
    writer.key("architecture");
    writer.string(architecture);
    writer.key("os");
    writer.string(os);
    write_optional_string(writer, "os.version", os_version);
    if (!os_features.empty()) {
        writer.key("os.features");
        writer.strings(os_features);
    }
    write_optional_string(writer, "variant", variant);
    // specs-go marks config `omitzero`: a config with nothing set is left out.
    if (config != ContainerConfig{}) {
        writer.key("config");
        write_container(writer, config);
    }
    writer.key("rootfs");
    writer.begin_object();
    writer.key("type");
    writer.string(rootfs.type);
    writer.key("diff_ids");
    writer.begin_array();
    for (const Digest& id : rootfs.diff_ids) {
        writer.string(id.to_string());
    }
    writer.end_array();
    oci::json::write_extra(writer, rootfs.extra, kRootFsKeys);
    writer.end_object();
    if (!history.empty()) {
        writer.key("history");
        writer.begin_array();
        for (const History& entry : history) {
            write_history(writer, entry);
        }
        writer.end_array();
    }
    oci::json::write_extra(writer, extra, kImageKeys);
    writer.end_object();
    return writer.take();
}

RawContent ImageConfig::to_raw() const {
    return RawContent::of(serialize(), std::string(media_type::kOciConfig));
}

}  // namespace xarch
