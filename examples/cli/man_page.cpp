// SPDX-License-Identifier: Apache-2.0
#include "man_page.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <sstream>
#include <string_view>
#include <vector>

namespace xarch::cli {

namespace {

// Text for roff: backslashes and hyphens escaped (a bare '-' may print as a hyphen, which breaks
// copying a flag), non-ASCII characters as \[uXXXX] (groff reads its input as Latin-1).
std::string escape(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '\\') {
            out += "\\e";
        } else if (c == '-') {
            out += "\\-";
        } else if (c < 0x80) {
            out += static_cast<char>(c);
        } else {
            // Decode one UTF-8 sequence; a stray byte stands for itself (Latin-1).
            const int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
            std::uint32_t code = extra == 0 ? c : (c & (0x3FU >> extra));
            if (extra > 0 && i + static_cast<std::size_t>(extra) < text.size()) {
                for (int k = 1; k <= extra; ++k) {
                    code = (code << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3FU);
                }
                i += static_cast<std::size_t>(extra);
            }
            char buf[16];
            std::snprintf(buf, sizeof buf, "\\[u%04X]", static_cast<unsigned>(code));
            out += buf;
        }
    }
    return out;
}

// One line of running text: a leading '.' or '\'' would be read as a request.
std::string text_line(std::string_view line) {
    std::string out = escape(line);
    if (!out.empty() && (out[0] == '.' || out[0] == '\'')) {
        out.insert(0, "\\&");
    }
    return out;
}

// A help text: blank lines start paragraphs; indented lines (examples) are kept as they are.
void write_text(std::string_view text, std::ostringstream& out) {
    std::vector<std::string_view> lines;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    bool literal = false;
    for (std::string_view line : lines) {
        const bool indented = line.starts_with("  ");
        if (indented && !literal) {
            out << ".RS 4\n.nf\n";
            literal = true;
        } else if (!indented && literal) {
            out << ".fi\n.RE\n";
            literal = false;
        }
        if (line.empty()) {
            out << ".PP\n";
        } else {
            out << text_line(indented ? line.substr(2) : line) << '\n';
        }
    }
    if (literal) {
        out << ".fi\n.RE\n";
    }
}

void write_flags(const Command& cmd, std::ostringstream& out) {
    for (const FlagSpec& f : flags_with_help(cmd)) {
        out << ".TP\n";
        if (f.short_name != '\0') {
            out << "\\fB\\-" << escape(std::string(1, f.short_name)) << "\\fR, ";
        }
        out << "\\fB\\-\\-" << escape(f.name) << "\\fR";
        if (f.takes_value) {
            out << " \\fI" << escape(f.value_name.empty() ? "string" : f.value_name) << "\\fR";
        }
        out << '\n' << text_line(f.help);
        if (!f.default_value.empty()) {
            out << " (default \\(lq" << escape(f.default_value) << "\\(rq)";
        }
        out << '\n';
    }
}

std::string usage_of(const Command& cmd) {
    return cmd.subcommands.empty() ? cmd.usage : "COMMAND";
}

void write_command(const Command& cmd, const std::string& path, std::ostringstream& out) {
    const std::string usage = usage_of(cmd);
    out << ".SS\n\\fB" << escape(path) << "\\fR" << (usage.empty() ? "" : " " + escape(usage))
        << '\n';
    write_text(cmd.description.empty() ? cmd.summary : cmd.description, out);
    if (!cmd.subcommands.empty()) {
        out << ".PP\nCommands:\n";
        for (const Command& sub : cmd.subcommands) {
            if (!sub.hidden) {
                out << ".TP\n\\fB" << escape(sub.name) << "\\fR\n"
                    << text_line(sub.summary) << '\n';
            }
        }
    }
    out << ".PP\nFlags:\n";
    write_flags(cmd, out);
    for (const Command& sub : cmd.subcommands) {
        if (!sub.hidden) {
            write_command(sub, path + " " + sub.name, out);
        }
    }
}

struct Entry {
    std::string_view name;
    std::string_view text;
};

// What xarch reads from its environment (the library's and the tool's getenv calls).
constexpr Entry kEnvironment[] = {
    {"XARCH_BUILDER",
     "The builder a build uses when --builder is not given, in place of the one `xarch use` "
     "chose (buildx's BUILDX_BUILDER)."},
    {"BUILDKIT_PROGRESS",
     "The progress view (plain, tty, rawjson, quiet) when --progress is auto."},
    {"NO_COLOR", "When set and not empty, the tty progress view prints no colours."},
    {"SOURCE_DATE_EPOCH",
     "Seconds since the epoch: the created time of the images built and a limit on the file times "
     "in their layers, so that the same inputs give the same digests. A build argument of that "
     "name does the same."},
    {"DOCKER_HOST",
     "The Docker Engine that --load and docker nodes talk to (unix:///var/run/docker.sock when "
     "neither it nor a Docker context says)."},
    {"DOCKER_CONTEXT", "The Docker context whose endpoint is used when DOCKER_HOST is not set."},
    {"DOCKER_TLS_VERIFY", "With DOCKER_CERT_PATH, TLS for a tcp:// Docker Engine, as docker does."},
    {"DOCKER_CERT_PATH", "The directory of ca.pem, cert.pem and key.pem for DOCKER_TLS_VERIFY."},
    {"DOCKER_CONFIG",
     "The directory of config.json (registry credentials, credential helpers, Docker contexts); "
     "~/.docker when not set."},
    {"SSH_AUTH_SOCK",
     "The SSH agent that --ssh forwards to RUN --mount=type=ssh when it names no socket or key "
     "(--ssh default)."},
    {"XDG_CONFIG_HOME",
     "Where builders.json is kept: $XDG_CONFIG_HOME/xarch, else $HOME/.config/xarch."},
    {"XDG_CACHE_HOME",
     "The default build cache: $XDG_CACHE_HOME/xarch, else $HOME/.cache/xarch (build --cache-dir "
     "chooses another)."},
};

constexpr Entry kFiles[] = {
    {"$XDG_CONFIG_HOME/xarch/builders.json",
     "The builders made by `xarch create` and the current one (`xarch use`)."},
    {"$XDG_CACHE_HOME/xarch/",
     "The build cache: steps, layers and base images; `xarch prune` empties it."},
    {"$DOCKER_CONFIG/config.json", "Registry credentials, read as docker reads them."},
    {"/proc/sys/fs/binfmt_misc/",
     "Where `xarch emulators` registers the QEMU user-mode emulators that run foreign platforms' "
     "RUN steps."},
};

void write_entries(const Entry* begin, const Entry* end, std::ostringstream& out) {
    for (const Entry* e = begin; e != end; ++e) {
        out << ".TP\n\\fB" << escape(e->name) << "\\fR\n" << text_line(e->text) << '\n';
    }
}

}  // namespace

std::string man_page(const Command& root) {
    std::ostringstream out;
    const std::string name = escape(root.name);
    out << ".\\\" Generated by `" << root.name << " __man` from the tool's command tree.\n"
        << ".TH XARCH 1 \"\" \"" << escape(version_line()) << "\" \"User Commands\"\n"
        << ".SH NAME\n"
        << name << " \\- build multi\\-platform container images from a Dockerfile\n"
        << ".SH SYNOPSIS\n"
        << "\\fB" << name << "\\fR [\\fB\\-\\-version\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR] "
        << "[\\fIARGUMENTS\\fR]\n"
        << ".br\n"
        << "\\fB" << name << "\\fR \\fICOMMAND\\fR \\fB\\-\\-help\\fR\n"
        << ".SH DESCRIPTION\n";
    write_text(root.description, out);
    out << ".PP\n"
        << "Its commands and flags are docker buildx's: \\fB" << name
        << " build\\fR takes what \\fBdocker buildx build\\fR takes and means the same.\n"
        << ".SH OPTIONS\n";
    write_flags(root, out);
    out << ".SH COMMANDS\n";
    for (const Command& sub : root.subcommands) {
        if (!sub.hidden) {
            write_command(sub, root.name + " " + sub.name, out);
        }
    }
    out << ".SH EXIT STATUS\n"
        << ".TP\n\\fB0\\fR\nSuccess.\n"
        << ".TP\n\\fB1\\fR\nThe command failed (the message says why).\n"
        << ".TP\n\\fB2\\fR\nA usage error: an unknown command or flag, a bad flag value, or the "
           "wrong number of arguments.\n"
        << ".TP\n\\fB130\\fR\nA second interrupt (Ctrl\\-C) during a build; the first cancels "
           "it cleanly.\n"
        << ".SH ENVIRONMENT\n";
    write_entries(std::begin(kEnvironment), std::end(kEnvironment), out);
    out << ".SH FILES\n";
    write_entries(std::begin(kFiles), std::end(kFiles), out);
    out << ".SH SEE ALSO\n"
        << "\\fBdocker\\-buildx\\-build\\fR(1), \\fBbinfmt_misc\\fR, "
        << "\\fB" << name << " completion bash\\fR\n";
    return out.str();
}

}  // namespace xarch::cli
