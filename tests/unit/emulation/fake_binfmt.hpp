// SPDX-License-Identifier: Apache-2.0
// A binfmt_misc stand-in for unit tests: a temporary directory with `status` and `register` as
// regular files, plus a small model of what the kernel does with what gets written there.
#pragma once

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace xarch::test {

inline std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

inline void write_text(const std::filesystem::path& path, std::string_view text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
}

// Runs `body` in a child process that is `nobody` (uid/gid 65534) when the test runs as root, so
// that what permissions deny an ordinary user is tested under root too (root writes read-only
// files). `dirs` are opened to everyone first (mkdtemp makes them 0700). Returns the child's
// exit status: body's return value, 125 when dropping privileges failed, 126 when body threw.
inline int run_as_nobody(const std::vector<std::string>& dirs, const std::function<int()>& body) {
    for (const auto& dir : dirs) {
        ::chmod(dir.c_str(), 0755);
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        if (::getuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) {
            ::_exit(125);
        }
        int status = 126;
        try {
            status = body();
        } catch (...) {
        }
        ::_exit(status);
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
        return -1;
    }
    return WEXITSTATUS(status);
}

class TempDir {
public:
    TempDir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "xarch-emu-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// What the kernel shows in an entry after `line` was written to `register`
// (fs/binfmt_misc.c: create_entry, then entry_status). Magic handlers only.
inline std::string kernel_entry(std::string_view line, bool enabled = true) {
    std::vector<std::string> fields;
    const char separator = line.front();
    std::string field;
    for (const char c : line.substr(1)) {
        if (c == separator) {
            fields.push_back(field);
            field.clear();
        } else {
            field += c;
        }
    }
    fields.push_back(field);
    if (fields.size() != 7 || fields[1] != "M") {
        throw std::invalid_argument("not a magic registration: " + std::string(line));
    }
    const auto unescape_hex = [](std::string_view escaped) {
        std::string hex;
        for (std::size_t i = 0; i < escaped.size();) {
            unsigned char byte = 0;
            if (escaped.substr(i, 2) == "\\x") {
                byte = static_cast<unsigned char>(
                    std::stoul(std::string(escaped.substr(i + 2, 2)), nullptr, 16));
                i += 4;
            } else {
                byte = static_cast<unsigned char>(escaped[i]);
                i += 1;
            }
            constexpr std::string_view kDigits = "0123456789abcdef";
            hex += kDigits[byte >> 4];
            hex += kDigits[byte & 0xf];
        }
        return hex;
    };
    const std::string& flags_in = fields[6];
    std::string flags;
    if (flags_in.find('P') != std::string::npos) {
        flags += 'P';
    }
    if (flags_in.find('O') != std::string::npos || flags_in.find('C') != std::string::npos) {
        flags += 'O';  // C implies O
    }
    if (flags_in.find('C') != std::string::npos) {
        flags += 'C';
    }
    if (flags_in.find('F') != std::string::npos) {
        flags += 'F';
    }
    std::string text = enabled ? "enabled\n" : "disabled\n";
    text += "interpreter " + fields[5] + "\n";
    text += "flags: " + flags + "\n";
    text += "offset " + (fields[2].empty() ? std::string("0") : fields[2]) + "\n";
    text += "magic " + unescape_hex(fields[3]) + "\n";
    if (!fields[4].empty()) {
        text += "mask " + unescape_hex(fields[4]) + "\n";
    }
    return text;
}

inline std::vector<std::string> lines_of(std::string_view text) {
    std::vector<std::string> lines;
    std::string line;
    for (const char c : text) {
        if (c == '\n') {
            lines.push_back(line);
            line.clear();
        } else {
            line += c;
        }
    }
    if (!line.empty()) {
        lines.push_back(line);
    }
    return lines;
}

class FakeBinfmt {
public:
    FakeBinfmt() {
        write_text(dir_.path() / "status", "enabled\n");
        write_text(dir_.path() / "register", "");
    }

    std::string dir() const { return dir_.path().string(); }
    std::filesystem::path path(std::string_view name) const { return dir_.path() / name; }

    void add_entry(const std::string& name, std::string_view text) const {
        write_text(path(name), text);
    }
    void add_registration(std::string_view line, bool enabled = true) const {
        const auto name = line.substr(1, line.find(line.front(), 1) - 1);
        add_entry(std::string(name), kernel_entry(line, enabled));
    }

    std::string register_text() const { return read_text(path("register")); }
    std::vector<std::string> register_lines() const { return lines_of(register_text()); }
    std::string entry_text(std::string_view name) const { return read_text(path(name)); }
    bool has_entry(std::string_view name) const { return std::filesystem::exists(path(name)); }

    // Does what the kernel would have done with the writes so far: entries that were written
    // "-1" go away, then each new `register` line becomes an entry.
    void settle() {
        for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
            const auto name = entry.path().filename().string();
            if (name == "status" || name == "register") {
                continue;
            }
            const auto text = read_text(entry.path());
            if (text.ends_with("-1\n")) {
                std::filesystem::remove(entry.path());
            }
        }
        const auto lines = register_lines();
        for (std::size_t i = applied_; i < lines.size(); ++i) {
            add_registration(lines[i]);
        }
        applied_ = lines.size();
    }

private:
    TempDir dir_;
    std::size_t applied_ = 0;
};

// A folder of fake emulator binaries named qemu-<cpu>-static.
class FakeQemuDir {
public:
    std::string dir() const { return dir_.path().string(); }
    void add(const std::string& cpu, bool executable = true) const {
        const auto file = dir_.path() / ("qemu-" + cpu + "-static");
        write_text(file, "#!/bin/sh\n");
        ::chmod(file.c_str(), executable ? 0755 : 0644);
    }

private:
    TempDir dir_;
};

}  // namespace xarch::test
