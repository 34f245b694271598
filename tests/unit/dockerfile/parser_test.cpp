// SPDX-License-Identifier: Apache-2.0
// The Dockerfile parser, instruction by instruction, with BuildKit's expected dumps: directives,
// comments, continuations, heredocs, flags, errors with their line numbers, check_instructions.
#include "dockerfile/parser.hpp"

#include "dockerfile/ast_dump.hpp"
#include "dockerfile/error.hpp"

#include <xarch/error.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

namespace df = xarch::dockerfile;

std::string dump(const std::string& text) {
    return df::dump(df::parse(text));
}

// The DockerfileError that parsing (and, when `check`, checking) `text` throws.
df::DockerfileError error_of(const std::string& text, bool check = false) {
    try {
        const df::ParseResult result = df::parse(text);
        if (check) {
            df::check_instructions(result);
        }
    } catch (const df::DockerfileError& e) {
        return e;
    }
    ADD_FAILURE() << "no error for:\n" << text;
    return df::DockerfileError("", 0, 0, "");
}

// ---- instructions ----

TEST(DockerfileParser, From) {
    EXPECT_EQ(dump("FROM alpine:3.20 AS build"), R"((from "alpine:3.20" "AS" "build"))");
    EXPECT_EQ(dump("FROM --platform=$BUILDPLATFORM golang\tAS  b"),
              R"((from ["--platform=$BUILDPLATFORM"] "golang" "AS" "b"))");
    EXPECT_EQ(dump("from scratch"), R"((from "scratch"))");
    EXPECT_EQ(dump("FROM"), "(from)");
}

TEST(DockerfileParser, RunShellAndExecForms) {
    EXPECT_EQ(dump("RUN   apt-get update &&  make  "), R"((run "apt-get update &&  make"))");
    const df::ParseResult exec = df::parse(R"(RUN ["sh", "-c", "echo \"hi\""])");
    EXPECT_TRUE(exec.instructions[0].json);
    EXPECT_EQ(df::dump(exec), R"((run "sh" "-c" "echo \"hi\""))");
    // Not valid JSON: the shell form, as written.
    EXPECT_EQ(dump("RUN [\"sh\", 'x']"), R"((run "[\"sh\", 'x']"))");
    EXPECT_FALSE(df::parse("RUN [\"a\"").instructions[0].json);
    EXPECT_EQ(dump("RUN --mount=type=cache,target=/root/.cache --network=none make"),
              R"((run ["--mount=type=cache,target=/root/.cache" "--network=none"] "make"))");
}

TEST(DockerfileParser, CmdEntrypointShell) {
    EXPECT_EQ(dump("CMD []"), "(cmd)");
    EXPECT_TRUE(df::parse("CMD []").instructions[0].json);
    EXPECT_EQ(dump("CMD echo $HOME"), R"((cmd "echo $HOME"))");
    EXPECT_EQ(dump("ENTRYPOINT [\"/bin/app\", \"--flag\"]"), R"((entrypoint "/bin/app" "--flag"))");
    EXPECT_EQ(dump("SHELL [\"powershell\", \"-command\"]"), R"((shell "powershell" "-command"))");
}

TEST(DockerfileParser, EnvAndLabelForms) {
    EXPECT_EQ(dump("ENV PATH /usr/bin:/bin"), R"((env "PATH" "/usr/bin:/bin" ""))");
    EXPECT_EQ(dump("ENV a=1 b=\"x y\" c=z\\ w"),
              R"((env "a" "1" "=" "b" "\"x y\"" "=" "c" "z\\ w" "="))");
    EXPECT_EQ(dump("ENV key value with  spaces"), R"((env "key" "value with  spaces" ""))");
    EXPECT_EQ(dump("LABEL org.opencontainers.image.title=\"xarch\" version=1"),
              R"((label "org.opencontainers.image.title" "\"xarch\"" "=" "version" "1" "="))");
    EXPECT_EQ(dump("LABEL maintainer someone"), R"((label "maintainer" "someone" ""))");
    EXPECT_EQ(dump("ENV"), "(env)");
}

TEST(DockerfileParser, EnvErrors) {
    const df::DockerfileError e = error_of("FROM a\n\nENV PATH\n");
    EXPECT_EQ(e.start_line(), 3);
    EXPECT_EQ(e.file(), "Dockerfile");
    EXPECT_EQ(e.code(), xarch::ErrorCode::kInvalidArgument);
    EXPECT_TRUE(std::string(e.what()).starts_with("Dockerfile:3: ENV must have two arguments"))
        << e.what();
    EXPECT_NE(std::string(error_of("LABEL x").what()).find("LABEL must have two arguments"),
              std::string::npos);
    EXPECT_NE(std::string(error_of("ENV a=b c").what())
                  .find(R"(Syntax error - can't find = in "c". Must be of the form: name=value)"),
              std::string::npos);
}

TEST(DockerfileParser, SingleStringInstructions) {
    EXPECT_EQ(dump("MAINTAINER Jane Doe <jane@example.com>"),
              R"((maintainer "Jane Doe <jane@example.com>"))");
    EXPECT_EQ(dump("USER 1000:1000"), R"((user "1000:1000"))");
    EXPECT_EQ(dump("WORKDIR /src/my dir"), R"((workdir "/src/my dir"))");
    EXPECT_EQ(dump("STOPSIGNAL SIGTERM"), R"((stopsignal "SIGTERM"))");
}

TEST(DockerfileParser, ListInstructions) {
    EXPECT_EQ(dump("EXPOSE 80/tcp  443"), R"((expose "80/tcp" "443"))");
    EXPECT_EQ(dump("VOLUME /data /logs"), R"((volume "/data" "/logs"))");
    EXPECT_EQ(dump("VOLUME [\"/data\"]"), R"((volume "/data"))");
    EXPECT_EQ(dump("COPY --from=build --chown=1:1 /out /app/"),
              R"((copy ["--from=build" "--chown=1:1"] "/out" "/app/"))");
    EXPECT_EQ(dump("COPY [\"a b\", \"/c/\"]"), R"((copy "a b" "/c/"))");
    // Quotes are not removed in the whitespace form.
    EXPECT_EQ(dump("ADD \"a b\" /c"), R"((add "\"a" "b\"" "/c"))");
    EXPECT_EQ(dump("ADD --checksum=sha256:abc --keep-git-dir https://x/y.git /src"),
              R"((add ["--checksum=sha256:abc" "--keep-git-dir"] "https://x/y.git" "/src"))");
}

TEST(DockerfileParser, Arg) {
    EXPECT_EQ(dump("ARG VERSION"), R"((arg "VERSION"))");
    EXPECT_EQ(dump("ARG A=1 B=\"two words\" C"), R"((arg "A=1" "B=\"two words\"" "C"))");
}

TEST(DockerfileParser, Onbuild) {
    EXPECT_EQ(dump("ONBUILD RUN echo test"), R"((onbuild (run "echo test")))");
    EXPECT_EQ(dump("ONBUILD COPY --from=x [\"a\", \"b\"]"),
              R"((onbuild (copy ["--from=x"] "a" "b")))");
    EXPECT_EQ(dump("ONBUILD"), "(onbuild)");
    const df::ParseResult r = df::parse("FROM a\nONBUILD ADD . /app\n");
    const df::Instruction* trigger = r.instructions[1].trigger();
    ASSERT_NE(trigger, nullptr);
    EXPECT_EQ(trigger->keyword, "add");
    EXPECT_EQ(trigger->original, "ADD . /app");
    EXPECT_EQ(trigger->start_line, 2);
    // BuildKit's parser accepts ONBUILD ONBUILD (its instructions layer refuses it).
    EXPECT_EQ(dump("ONBUILD ONBUILD RUN x"), R"((onbuild (onbuild (run "x"))))");
}

TEST(DockerfileParser, Healthcheck) {
    EXPECT_EQ(dump("HEALTHCHECK NONE"), R"((healthcheck "NONE"))");
    EXPECT_EQ(dump("HEALTHCHECK --interval=5s CMD curl -f http://localhost/"),
              R"((healthcheck ["--interval=5s"] "CMD" "curl -f http://localhost/"))");
    const df::ParseResult exec = df::parse("HEALTHCHECK CMD [\"/bin/check\"]");
    EXPECT_TRUE(exec.instructions[0].json);
    EXPECT_EQ(df::dump(exec), R"((healthcheck "CMD" "/bin/check"))");
    EXPECT_EQ(dump("HEALTHCHECK"), "(healthcheck)");
}

TEST(DockerfileParser, UnknownInstructionIsKeptWithAnEmptyArgument) {
    EXPECT_EQ(dump("FROM a\nRUNN make"), "(from \"a\")\n(runn \"\")");
    const df::ParseResult r = df::parse("FROM a\nFRÖM x");
    EXPECT_EQ(r.instructions[1].keyword, "fröm");
    EXPECT_EQ(r.instructions[1].keyword_as_written, "FRÖM");
}

TEST(DockerfileParser, InstructionFields) {
    const df::ParseResult r = df::parse("# builds it\n  copy --link a \\\n  b\n");
    ASSERT_EQ(r.instructions.size(), 1U);
    const df::Instruction& n = r.instructions[0];
    EXPECT_EQ(n.keyword, "copy");
    EXPECT_EQ(n.keyword_as_written, "copy");
    EXPECT_EQ(n.original, "copy --link a   b");
    EXPECT_EQ(n.flags, std::vector<std::string>{"--link"});
    EXPECT_EQ(n.args, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(n.comments, std::vector<std::string>{"builds it"});
    EXPECT_EQ(n.start_line, 2);
    EXPECT_EQ(n.end_line, 3);
    EXPECT_EQ(r.start_line, 2);
    EXPECT_EQ(r.end_line, 3);
    EXPECT_EQ(r.escape_token, '\\');
}

// ---- flags ----

TEST(DockerfileParser, FlagWords) {
    // Quotes and escapes are removed from flags; `--` ends them.
    EXPECT_EQ(dump("COPY --chown=\"a b\" --x=y\\ z -- --notaflag /d"),
              R"((copy ["--chown=a b" "--x=y z"] "--notaflag" "/d"))");
    EXPECT_EQ(dump("COPY --a -b c"), R"((copy ["--a"] "-b" "c"))");
    EXPECT_EQ(dump("RUN --x=''"), R"((run ["--x="]))");
    // BuildKit reads flags byte by byte: a non-ASCII byte becomes the Latin-1 character.
    EXPECT_EQ(df::parse("COPY --x=\xC3\xA9 a b").instructions[0].flags,
              std::vector<std::string>{"--x=\xC3\x83\xC2\xA9"});
}

TEST(DockerfileParser, CheckInstructionsUnknownInstruction) {
    const df::DockerfileError e = error_of("FROM a\n\nRUNN make\n", true);
    EXPECT_STREQ(e.what(), "Dockerfile:3: unknown instruction: RUNN (did you mean RUN?)");
    EXPECT_EQ(e.start_line(), 3);
    EXPECT_EQ(e.detail(), "unknown instruction: RUNN (did you mean RUN?)");
    EXPECT_STREQ(error_of("FROM a\nrunn make", true).what(),
                 "Dockerfile:2: unknown instruction: runn (did you mean run?)");
    EXPECT_STREQ(error_of("FROM a\nCopi a b", true).what(),
                 "Dockerfile:2: unknown instruction: Copi (did you mean copy?)");
    EXPECT_STREQ(error_of("FROM a\nFROBNICATE", true).what(),
                 "Dockerfile:2: unknown instruction: FROBNICATE");
    EXPECT_NO_THROW(df::check_instructions(df::parse("FROM a\nRUN x\nonbuild run y\n")));
}

TEST(DockerfileParser, CheckInstructionsFlags) {
    auto message = [](const std::string& text) { return std::string(error_of(text, true).what()); };
    EXPECT_EQ(message("FROM a\nCOPY --frm=b x y"),
              "Dockerfile:2: unknown flag: --frm (did you mean from?)");
    EXPECT_EQ(message("COPY --from b c"), "Dockerfile:1: missing a value on flag: --from");
    EXPECT_EQ(message("COPY --chown=1 --chown=2 a b"),
              "Dockerfile:1: duplicate flag specified: --chown");
    EXPECT_EQ(message("COPY --link=maybe a b"),
              "Dockerfile:1: expecting boolean value for flag --link, not: maybe");
    EXPECT_EQ(message("COPY --link= a b"), "Dockerfile:1: missing a value on flag: --link");
    EXPECT_EQ(message("ENV --x=1 a=b"), "Dockerfile:1: unknown flag: --x");
    EXPECT_EQ(message("RUN --mount=type=cache --network make"),
              "Dockerfile:1: missing a value on flag: --network");
    // Repeatable flags, booleans written out, and instructions BuildKit never checks.
    EXPECT_NO_THROW(df::check_instructions(
        df::parse("FROM --platform=linux/arm64 a\n"
                  "RUN --mount=type=cache,target=/a --mount=type=tmpfs,target=/b make\n"
                  "COPY --link=TRUE --exclude=*.o --exclude=*.a . /src\n"
                  "ARG --anything x\nSTOPSIGNAL --whatever 9\nHEALTHCHECK --bogus NONE\n")));
}

// ---- directives, comments, continuations ----

TEST(DockerfileParser, EscapeDirective) {
    const df::ParseResult r = df::parse("# escape=`\nFROM a\nRUN echo \\ `\n  done\n");
    EXPECT_EQ(r.escape_token, '`');
    EXPECT_EQ(df::dump(r), "(from \"a\")\n(run \"echo \\\\   done\")");
    ASSERT_EQ(r.directives.size(), 1U);
    EXPECT_EQ(r.directives[0].name, "escape");
    EXPECT_EQ(r.directives[0].value, "`");
    EXPECT_EQ(r.directives[0].line, 1);
    // A directive is not a comment for the first instruction.
    EXPECT_TRUE(r.instructions[0].comments.empty());
}

TEST(DockerfileParser, DirectivesOnlyAtTheTop) {
    // After a comment, an empty line or an instruction, `# escape=` is a plain comment.
    EXPECT_EQ(df::parse("# hello\n# escape=`\nFROM a\n").escape_token, '\\');
    EXPECT_EQ(df::parse("\n# escape=`\nFROM a\n").escape_token, '\\');
    EXPECT_EQ(df::parse("FROM a\n# escape=`\nRUN x\n").escape_token, '\\');
    // Keys are case-insensitive; unknown keys end the directives.
    const df::ParseResult r = df::parse("# SYNTAX = docker/dockerfile:1\n#CHECK=skip=all\nFROM a");
    ASSERT_EQ(r.directives.size(), 2U);
    EXPECT_EQ(r.directives[0].name, "syntax");
    EXPECT_EQ(r.directives[0].value, "docker/dockerfile:1");
    EXPECT_EQ(r.directives[1].name, "check");
    EXPECT_EQ(r.directives[1].value, "skip=all");
    EXPECT_TRUE(df::parse("# foo=bar\n# escape=`\nFROM a").directives.empty());
}

TEST(DockerfileParser, DirectiveErrors) {
    EXPECT_STREQ(error_of("# escape=x\nFROM a").what(),
                 "Dockerfile:1: invalid escape token 'x' does not match ` or \\");
    EXPECT_STREQ(error_of("# syntax=a\n# syntax=b\nFROM a").what(),
                 "Dockerfile:2: only one syntax parser directive can be used");
    // `escape= ` has a value: the one blank.
    EXPECT_STREQ(error_of("#escape= \nFROM a").what(),
                 "Dockerfile:1: invalid escape token ' ' does not match ` or \\");
}

TEST(DockerfileParser, ByteOrderMark) {
    const df::ParseResult r = df::parse("\xEF\xBB\xBF# escape=`\nFROM a");
    EXPECT_EQ(r.escape_token, '`');
    EXPECT_EQ(df::dump(r), R"((from "a"))");
}

TEST(DockerfileParser, Comments) {
    EXPECT_EQ(dump("FROM a\nRUN echo hi # not a comment\n  # a comment\n"),
              "(from \"a\")\n(run \"echo hi # not a comment\")");
    // Comments inside a continuation are dropped, without a warning.
    const df::ParseResult r = df::parse("RUN a \\\n# inside\n  b\n");
    EXPECT_EQ(df::dump(r), R"((run "a   b"))");
    EXPECT_TRUE(r.warnings.empty());
    // An empty comment line resets the comments kept for the next instruction.
    EXPECT_EQ(df::parse("# one\n#\n# two\nFROM a").instructions[0].comments,
              std::vector<std::string>{"two"});
}

TEST(DockerfileParser, Continuations) {
    EXPECT_EQ(dump("RUN a \\\n    b \\  \n\tc"), R"((run "a     b \tc"))");
    // An escaped escape character does not continue the line.
    EXPECT_EQ(dump("RUN a \\\\\nRUN b"), "(run \"a \\\\\\\\\")\n(run \"b\")");
    // A continuation at the end of the file is allowed.
    EXPECT_EQ(dump("FROM a\nRUN b \\"), "(from \"a\")\n(run \"b\")");
    const df::ParseResult r = df::parse("RUN a \\\n\n  \n b\nRUN c \\\n\n d");
    ASSERT_EQ(r.warnings.size(), 2U);
    EXPECT_EQ(r.warnings[0].short_text, "Empty continuation line found in: RUN a  b");
    EXPECT_EQ(r.warnings[0].line, 4);
    EXPECT_EQ(r.warnings[1].line, 7);
    EXPECT_EQ(r.instructions[1].start_line, 5);
    EXPECT_EQ(r.instructions[1].end_line, 7);
}

TEST(DockerfileParser, CarriageReturns) {
    EXPECT_EQ(dump("FROM a\r\nRUN b \\\r\n c\r\n"), "(from \"a\")\n(run \"b  c\")");
}

// ---- heredocs ----

TEST(DockerfileParser, Heredocs) {
    const df::ParseResult r = df::parse(
        "FROM a\n"
        "RUN <<EOF\n"
        "echo hi\n"
        "FROM not-an-instruction\n"
        "EOF\n"
        "COPY <<-\"ONE\" 3<<TWO /dest/\n"
        "\tfirst\n"
        "\tONE\n"
        "second\n"
        "TWO\n"
        "RUN [\"<<EOF\"]\n");
    ASSERT_EQ(r.instructions.size(), 4U);
    const df::Instruction& run = r.instructions[1];
    ASSERT_EQ(run.heredocs.size(), 1U);
    EXPECT_EQ(run.heredocs[0].name, "EOF");
    EXPECT_EQ(run.heredocs[0].content, "echo hi\nFROM not-an-instruction\n");
    EXPECT_TRUE(run.heredocs[0].expand);
    EXPECT_EQ(run.start_line, 2);
    EXPECT_EQ(run.end_line, 5);
    EXPECT_EQ(df::dump(run), R"(run "<<EOF")");
    const df::Instruction& copy = r.instructions[2];
    ASSERT_EQ(copy.heredocs.size(), 2U);
    EXPECT_EQ(copy.heredocs[0].name, "ONE");
    EXPECT_TRUE(copy.heredocs[0].chomp);
    EXPECT_FALSE(copy.heredocs[0].expand);
    EXPECT_EQ(copy.heredocs[0].content, "\tfirst\n");
    EXPECT_EQ(copy.heredocs[1].name, "TWO");
    EXPECT_EQ(copy.heredocs[1].file_descriptor, 3U);
    EXPECT_EQ(copy.heredocs[1].content, "second\n");
    EXPECT_EQ(copy.args, (std::vector<std::string>{"<<-\"ONE\"", "3<<TWO", "/dest/"}));
    EXPECT_TRUE(r.instructions[3].heredocs.empty());
}

TEST(DockerfileParser, HeredocsOnlyWhereBuildKitTakesThem) {
    // Not on other instructions, nor in quotes; yes through ONBUILD.
    const df::ParseResult r =
        df::parse("FROM a\nLABEL x=<<EOF\nRUN '<<EOF'\nONBUILD RUN <<X\nbody\nX\n");
    ASSERT_EQ(r.instructions.size(), 4U);
    EXPECT_TRUE(r.instructions[1].heredocs.empty());
    EXPECT_TRUE(r.instructions[2].heredocs.empty());
    ASSERT_EQ(r.instructions[3].heredocs.size(), 1U);
    EXPECT_EQ(r.instructions[3].heredocs[0].content, "body\n");
}

TEST(DockerfileParser, UnterminatedHeredoc) {
    const df::DockerfileError e = error_of("FROM a\nRUN <<EOF\necho hi\n");
    EXPECT_EQ(e.start_line(), 2);
    EXPECT_EQ(e.end_line(), 3);
    EXPECT_STREQ(e.what(),
                 "Dockerfile:2: unterminated heredoc: no line \"EOF\" ends the here-document "
                 "started on line 2");
}

// ---- errors and the file name ----

TEST(DockerfileParser, NoInstructions) {
    for (const char* text : {"", "\n\n", "# just a comment\n", "  \t\n# x\n"}) {
        const df::DockerfileError e = error_of(text);
        EXPECT_NE(std::string(e.what()).find("file with no instructions"), std::string::npos);
    }
}

TEST(DockerfileParser, FileNameInErrors) {
    df::ParseOptions options;
    options.file_name = "build/Dockerfile.arm";
    try {
        df::parse("FROM a\nCMD [\"a\", 1]", options);
        FAIL() << "no error";
    } catch (const df::DockerfileError& e) {
        EXPECT_TRUE(std::string(e.what()).starts_with(
            "build/Dockerfile.arm:2: when using JSON array syntax, arrays must be comprised of "
            "strings only"))
            << e.what();
        EXPECT_EQ(e.file(), "build/Dockerfile.arm");
    }
}

TEST(DockerfileParser, DumpQuotesLikeGo) {
    EXPECT_EQ(dump("RUN [\"tab\\there\", \"nul\\u0000\", \"\\u00a0\", \"é☃\", \"\\ud83d\\ude00\"]"),
              "(run \"tab\\there\" \"nul\\x00\" \"\\u00a0\" \"é☃\" \"😀\")");
    EXPECT_EQ(dump("RUN a\xFF\x01 b"), R"((run "a\xff\x01 b"))");
}

TEST(DockerfileParser, Suggest) {
    const std::vector<std::string> names{"FROM", "RUN", "COPY"};
    EXPECT_EQ(df::suggest("RUNN", names, false), "RUN");
    EXPECT_EQ(df::suggest("runn", names, false), "run");
    EXPECT_EQ(df::suggest("Frmo", names, false), "from");
    EXPECT_EQ(df::suggest("COPY", names, false), "");
    EXPECT_EQ(df::suggest("XYZZY", names, false), "");
    EXPECT_EQ(df::suggest("form", {"from", "platform"}, true), "from");
}

}  // namespace
