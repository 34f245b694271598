// SPDX-License-Identifier: Apache-2.0
// save_entries/load_entries with Boost.JSON, one object a line. Paths are written as the bytes
// they are (the reader allows invalid UTF-8), xattr values in base64 since they are binary.
#include "layer/entries_file.hpp"

#include "oci/fs.hpp"
#include "util/base64.hpp"
#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <boost/json.hpp>

#include <fstream>
#include <string>

namespace xarch::layer {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxFileSize = std::size_t{1} << 31;

const char* type_name(EntryType type) {
    switch (type) {
        case EntryType::kRegular:
            return "file";
        case EntryType::kDirectory:
            return "dir";
        case EntryType::kSymlink:
            return "symlink";
        case EntryType::kHardlink:
            return "link";
        case EntryType::kFifo:
            return "fifo";
        case EntryType::kCharDevice:
            return "char";
        case EntryType::kBlockDevice:
            return "block";
    }
    return "file";
}

std::optional<EntryType> parse_type(std::string_view name) {
    for (EntryType type :
         {EntryType::kRegular, EntryType::kDirectory, EntryType::kSymlink, EntryType::kHardlink,
          EntryType::kFifo, EntryType::kCharDevice, EntryType::kBlockDevice}) {
        if (name == type_name(type)) {
            return type;
        }
    }
    return std::nullopt;
}

json::object to_json(const Entry& entry) {
    json::object out;
    out["path"] = entry.path;
    out["type"] = type_name(entry.type);
    out["mode"] = entry.mode;
    if (entry.uid != 0) {
        out["uid"] = entry.uid;
    }
    if (entry.gid != 0) {
        out["gid"] = entry.gid;
    }
    out["mtime"] = entry.mtime_ns;
    if (entry.size != 0) {
        out["size"] = entry.size;
    }
    if (!entry.link_target.empty()) {
        out["link"] = entry.link_target;
    }
    if (entry.dev_major != 0 || entry.dev_minor != 0) {
        out["major"] = entry.dev_major;
        out["minor"] = entry.dev_minor;
    }
    if (!entry.xattrs.empty()) {
        json::object xattrs;
        for (const auto& [name, value] : entry.xattrs) {
            xattrs[name] = util::base64_encode(value);
        }
        out["xattrs"] = std::move(xattrs);
    }
    return out;
}

template <typename Int>
Int number(const json::object& object, std::string_view key) {
    const json::value* value = object.if_contains(key);
    if (value == nullptr) {
        return 0;
    }
    return value->to_number<Int>();
}

Entry from_json(const json::object& object, const std::filesystem::path& root) {
    Entry entry;
    entry.path = std::string(object.at("path").as_string());
    const auto type = parse_type(object.at("type").as_string());
    if (!type || entry.path.empty()) {
        throw std::invalid_argument("bad type or path");
    }
    entry.type = *type;
    entry.mode = number<std::uint32_t>(object, "mode");
    entry.uid = number<std::uint32_t>(object, "uid");
    entry.gid = number<std::uint32_t>(object, "gid");
    entry.mtime_ns = number<std::int64_t>(object, "mtime");
    entry.size = number<std::int64_t>(object, "size");
    if (const json::value* link = object.if_contains("link")) {
        entry.link_target = std::string(link->as_string());
    }
    entry.dev_major = number<std::uint32_t>(object, "major");
    entry.dev_minor = number<std::uint32_t>(object, "minor");
    if (const json::value* xattrs = object.if_contains("xattrs")) {
        for (const auto& [name, value] : xattrs->as_object()) {
            auto decoded = util::base64_decode(value.as_string());
            if (!decoded) {
                throw std::invalid_argument("bad base64");
            }
            entry.xattrs[std::string(name)] = std::move(*decoded);
        }
    }
    if (entry.type == EntryType::kRegular || entry.type == EntryType::kHardlink) {
        entry.source_file = root / entry.path;
    }
    return entry;
}

}  // namespace

void save_entries(const std::vector<Entry>& entries, const std::filesystem::path& file) {
    std::string text;
    for (const Entry& entry : entries) {
        text += json::serialize(to_json(entry));
        text += '\n';
    }
    oci::fs::write_file_atomic(file, text);
}

std::vector<Entry> load_entries(const std::filesystem::path& file,
                                const std::filesystem::path& root) {
    const std::optional<std::string> text = oci::fs::read_file(file, kMaxFileSize);
    if (!text) {
        throw Error(ErrorCode::kNotFound,
                    "layer entries file " + util::quote(file.string()) + " does not exist");
    }
    json::parse_options options;
    options.allow_invalid_utf8 = true;
    std::vector<Entry> entries;
    std::size_t start = 0;
    std::size_t line = 0;
    while (start < text->size()) {
        std::size_t end = text->find('\n', start);
        if (end == std::string::npos) {
            end = text->size();
        }
        ++line;
        const std::string_view row(text->data() + start, end - start);
        start = end + 1;
        if (row.empty()) {
            continue;
        }
        try {
            entries.push_back(from_json(json::parse(row, {}, options).as_object(), root));
        } catch (const std::exception& e) {
            throw Error(ErrorCode::kInvalidArgument,
                        "layer entries file " + util::quote(file.string()) + " line " +
                            std::to_string(line) + " is malformed (" + e.what() +
                            "); remove the unpacked layer so that it is unpacked again");
        }
    }
    return entries;
}

}  // namespace xarch::layer
