// SPDX-License-Identifier: Apache-2.0
// Tar headers written byte for byte as Go's archive/tar writes moby's canonical headers (USTAR
// when every field fits, else PAX), by hand rather than with libarchive so that every byte is
// ours to decide and stays the same across libarchive versions.
#include "layer/tar_header.hpp"

#include "util/quote.hpp"

#include <xarch/error.hpp>

#include <algorithm>
#include <cstring>
#include <map>
#include <string_view>

namespace xarch::layer {
namespace {

constexpr std::size_t kNameSize = 100;
constexpr std::size_t kPrefixSize = 155;

struct Field {
    std::size_t offset;
    std::size_t size;
};
constexpr Field kName{0, 100};
constexpr Field kMode{100, 8};
constexpr Field kUid{108, 8};
constexpr Field kGid{116, 8};
constexpr Field kSize{124, 12};
constexpr Field kMtime{136, 12};
constexpr Field kChecksum{148, 8};
constexpr std::size_t kTypeflag = 156;
constexpr Field kLinkname{157, 100};
constexpr Field kMagic{257, 6};
constexpr Field kVersion{263, 2};
constexpr Field kDevMajor{329, 8};
constexpr Field kDevMinor{337, 8};
constexpr Field kPrefix{345, 155};

bool is_ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::string to_ascii(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (static_cast<unsigned char>(c) < 0x80) {
            out.push_back(c);
        }
    }
    return out;
}

bool fits_octal(std::size_t field_size, std::int64_t value) {
    const unsigned bits = static_cast<unsigned>(field_size - 1) * 3;
    return value >= 0 && (field_size >= 22 || value < (std::int64_t{1} << bits));
}

// Go's formatString: copied, NUL-terminated when shorter, cut when longer.
void put_string(std::string& block, Field field, std::string_view value) {
    const std::size_t n = std::min(value.size(), field.size);
    if (n > 0) {
        std::memcpy(block.data() + field.offset, value.data(), n);
    }
    if (n < field.size) {
        block[field.offset + n] = '\0';
    }
}

// Go's formatOctal: zero-padded octal digits and a NUL; 0 when the value does not fit (the PAX
// record carries it then).
void put_octal(std::string& block, Field field, std::int64_t value) {
    if (!fits_octal(field.size, value)) {
        value = 0;
    }
    char digits[24];
    int len = 0;
    auto v = static_cast<std::uint64_t>(value);
    do {
        digits[len++] = static_cast<char>('0' + (v & 7));
        v >>= 3;
    } while (v != 0);
    std::string text(field.size - 1 > static_cast<std::size_t>(len)
                         ? field.size - 1 - static_cast<std::size_t>(len)
                         : 0,
                     '0');
    while (len > 0) {
        text.push_back(digits[--len]);
    }
    put_string(block, field, text);
}

void finish_block(std::string& block) {
    put_string(block, kMagic, std::string_view("ustar\0", 6));
    put_string(block, kVersion, "00");
    std::memset(block.data() + kChecksum.offset, ' ', kChecksum.size);
    std::int64_t sum = 0;
    for (char c : block) {
        sum += static_cast<unsigned char>(c);
    }
    put_octal(block, Field{kChecksum.offset, 7}, sum);
    block[kChecksum.offset + 7] = ' ';
}

// Go's splitUSTARPath: a name longer than 100 bytes split at a '/' into prefix and name.
bool split_ustar_path(std::string_view name, std::string_view& prefix, std::string_view& suffix) {
    std::size_t length = name.size();
    if (length <= kNameSize || !is_ascii(name)) {
        return false;
    }
    if (length > kPrefixSize + 1) {
        length = kPrefixSize + 1;
    } else if (name[length - 1] == '/') {
        --length;
    }
    const std::size_t i = name.substr(0, length).rfind('/');
    if (i == std::string_view::npos || i == 0) {
        return false;
    }
    const std::size_t nlen = name.size() - i - 1;
    if (nlen > kNameSize || nlen == 0 || i > kPrefixSize) {
        return false;
    }
    prefix = name.substr(0, i);
    suffix = name.substr(i + 1);
    return true;
}

std::string pax_record(std::string_view key, std::string_view value) {
    std::size_t size = key.size() + value.size() + 3;
    size += std::to_string(size).size();
    std::string record =
        std::to_string(size) + " " + std::string(key) + "=" + std::string(value) + "\n";
    if (record.size() != size) {
        record = std::to_string(record.size()) + " " + std::string(key) + "=" + std::string(value) +
                 "\n";
    }
    return record;
}

char typeflag(EntryType type) {
    switch (type) {
        case EntryType::kRegular:
            return '0';
        case EntryType::kHardlink:
            return '1';
        case EntryType::kSymlink:
            return '2';
        case EntryType::kCharDevice:
            return '3';
        case EntryType::kBlockDevice:
            return '4';
        case EntryType::kDirectory:
            return '5';
        case EntryType::kFifo:
            return '6';
    }
    return '0';
}

// path.Join(dir, "PaxHeaders.0", file) of Go's writer, made ASCII and cut to 100 bytes.
std::string pax_header_name(std::string_view name) {
    const std::size_t slash = name.rfind('/');
    const std::string_view dir =
        slash == std::string_view::npos ? std::string_view() : name.substr(0, slash);
    const std::string_view file = slash == std::string_view::npos ? name : name.substr(slash + 1);
    std::string joined =
        dir.empty() ? std::string("PaxHeaders.0") : std::string(dir) + "/PaxHeaders.0";
    if (!file.empty()) {
        joined += "/" + std::string(file);
    }
    joined = to_ascii(joined);
    if (joined.size() > kNameSize) {
        joined.resize(kNameSize);
    }
    while (!joined.empty() && joined.back() == '/') {
        joined.pop_back();
    }
    return joined;
}

}  // namespace

std::size_t tar_padding(std::int64_t size) {
    const auto rest = static_cast<std::size_t>(size % static_cast<std::int64_t>(kTarBlock));
    return rest == 0 ? 0 : kTarBlock - rest;
}

std::string tar_header(const Entry& entry, std::int64_t mtime_seconds, std::int64_t size) {
    std::string name = entry.path;
    if (entry.type == EntryType::kDirectory) {
        name += '/';
    }
    const std::string_view link =
        entry.type == EntryType::kSymlink || entry.type == EntryType::kHardlink
            ? std::string_view(entry.link_target)
            : std::string_view();
    if (name.find('\0') != std::string::npos || link.find('\0') != std::string_view::npos) {
        throw Error(ErrorCode::kInvalidArgument,
                    "layer entry path or link target contains a NUL byte; tar cannot store it");
    }

    // The PAX records Go's writer would emit, sorted by key (std::map).
    std::map<std::string, std::string> pax;
    bool ustar = true;
    std::string_view prefix;
    std::string_view suffix = name;
    if (name.size() > kNameSize || !is_ascii(name)) {
        pax["path"] = name;
        if (!split_ustar_path(name, prefix, suffix)) {
            ustar = false;
        }
    }
    if (link.size() > kNameSize || !is_ascii(link)) {
        pax["linkpath"] = std::string(link);
        ustar = false;
    }
    auto number = [&](Field field, std::int64_t value, const char* key) {
        if (!fits_octal(field.size, value)) {
            if (key == nullptr) {
                throw Error(ErrorCode::kInvalidArgument, "layer entry " + util::quote(entry.path) +
                                                             " has a value tar cannot store (" +
                                                             std::to_string(value) + ")");
            }
            pax[key] = std::to_string(value);
            ustar = false;
        }
    };
    number(kMode, entry.mode & 07777, nullptr);
    number(kUid, entry.uid, "uid");
    number(kGid, entry.gid, "gid");
    number(kSize, size, "size");
    number(kMtime, mtime_seconds, "mtime");
    number(kDevMajor, entry.dev_major, nullptr);
    number(kDevMinor, entry.dev_minor, nullptr);
    for (const auto& [key, value] : entry.xattrs) {
        if (key.empty() || key.find('=') != std::string::npos ||
            key.find('\0') != std::string::npos) {
            throw Error(ErrorCode::kInvalidArgument, "layer entry " + util::quote(entry.path) +
                                                         " has an xattr name tar cannot store");
        }
        pax["SCHILY.xattr." + key] = value;
        ustar = false;
    }

    std::string out;
    if (!ustar) {
        std::string records;
        for (const auto& [key, value] : pax) {
            records += pax_record(key, value);
        }
        std::string block(kTarBlock, '\0');
        put_string(block, kName, pax_header_name(name));
        put_octal(block, kMode, 0);
        put_octal(block, kUid, 0);
        put_octal(block, kGid, 0);
        put_octal(block, kSize, static_cast<std::int64_t>(records.size()));
        put_octal(block, kMtime, 0);
        block[kTypeflag] = 'x';
        finish_block(block);
        out += block;
        out += records;
        out.append(tar_padding(static_cast<std::int64_t>(records.size())), '\0');
        prefix = {};
        suffix = name;
    }

    std::string block(kTarBlock, '\0');
    put_string(block, kName, ustar ? std::string(suffix) : to_ascii(name));
    put_octal(block, kMode, entry.mode & 07777);
    put_octal(block, kUid, entry.uid);
    put_octal(block, kGid, entry.gid);
    put_octal(block, kSize, size);
    put_octal(block, kMtime, mtime_seconds);
    block[kTypeflag] = typeflag(entry.type);
    put_string(block, kLinkname, ustar ? std::string(link) : to_ascii(link));
    put_octal(block, kDevMajor, entry.dev_major);
    put_octal(block, kDevMinor, entry.dev_minor);
    if (ustar) {
        put_string(block, kPrefix, prefix);
    }
    finish_block(block);
    out += block;
    return out;
}

}  // namespace xarch::layer
