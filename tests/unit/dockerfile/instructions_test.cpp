// SPDX-License-Identifier: Apache-2.0
// Typed instructions: every instruction and flag as BuildKit's instructions package reads them,
// flag errors as bflag words them, and each error placed at FILE:LINE.
#include "dockerfile/instructions.hpp"

#include "dockerfile/go_values.hpp"
#include "dockerfile/parser.hpp"

#include <xarch/error.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace {

namespace df = xarch::dockerfile;
using namespace std::chrono_literals;

df::Program program(const std::string& text) {
    df::ParseOptions options;
    options.file_name = "Dockerfile.test";
    return df::parse_program(df::parse(text, options));
}

// The one instruction of the first stage after `FROM base`.
df::Command command(const std::string& line) {
    const df::Program p = program("FROM base\n" + line + "\n");
    EXPECT_EQ(p.stages.size(), 1U);
    EXPECT_EQ(p.stages.front().commands.size(), 1U);
    return p.stages.front().commands.front();
}

// The DockerfileError reading `text` throws.
xarch::DockerfileError error_of(const std::string& text) {
    try {
        program(text);
    } catch (const xarch::DockerfileError& e) {
        return e;
    }
    ADD_FAILURE() << "no error for:\n" << text;
    return xarch::DockerfileError("", 0, 0, "");
}

// The message (FILE:LINE: detail) of the error for `line` placed on line 2.
std::string error_line(const std::string& line) {
    return error_of("FROM base\n" + line + "\n").what();
}

TEST(DockerfileInstructions, FromWithNameAndPlatform) {
    const df::Program p = program("FROM --platform=$BUILDPLATFORM golang:1.22 AS Build\n");
    ASSERT_EQ(p.stages.size(), 1U);
    EXPECT_EQ(p.stages[0].from.base_name, "golang:1.22");
    EXPECT_EQ(p.stages[0].from.stage_name, "build");
    EXPECT_EQ(p.stages[0].from.platform, "$BUILDPLATFORM");
    EXPECT_EQ(p.stages[0].start_line, 1);
}

TEST(DockerfileInstructions, FromErrors) {
    EXPECT_STREQ(error_of("FROM a AS 1x\n").what(),
                 "Dockerfile.test:1: invalid name for build stage: \"1x\", name can't start with a "
                 "number or contain symbols");
    EXPECT_STREQ(error_of("FROM a b\n").what(),
                 "Dockerfile.test:1: FROM requires either one or three arguments");
    EXPECT_STREQ(error_of("FROM --platfrm=x a\n").what(),
                 "Dockerfile.test:1: unknown flag: --platfrm (did you mean platform?)");
    EXPECT_STREQ(error_of("FROM --plat=x a\n").what(),
                 "Dockerfile.test:1: unknown flag: --plat");  // too far for a suggestion
    EXPECT_STREQ(error_of("FROM --platform a\n").what(),
                 "Dockerfile.test:1: missing a value on flag: --platform");
}

TEST(DockerfileInstructions, StagesAndMetaArgs) {
    const df::Program p = program("ARG A=1 B\nFROM x AS one\nRUN a\nFROM one\nCOPY a b\n");
    ASSERT_EQ(p.meta_args.size(), 1U);
    const auto* arg = p.meta_args[0].get<df::ArgCommand>();
    ASSERT_NE(arg, nullptr);
    ASSERT_EQ(arg->args.size(), 2U);
    EXPECT_EQ(arg->args[0], (df::ArgDefinition{"A", "1"}));
    EXPECT_EQ(arg->args[1], (df::ArgDefinition{"B", std::nullopt}));
    ASSERT_EQ(p.stages.size(), 2U);
    EXPECT_EQ(p.stages[0].commands.size(), 1U);
    EXPECT_EQ(p.stages[1].from.base_name, "one");
    EXPECT_EQ(p.stages[1].commands.front().start_line, 5);
    EXPECT_STREQ(error_of("ARG a\nRUN x\nFROM b\n").what(),
                 "Dockerfile.test:2: no build stage in current context: RUN comes before the "
                 "first FROM (only ARG may)");
    EXPECT_STREQ(error_of("ARG a\n").what(),
                 "Dockerfile.test: dockerfile contains no stages to build: add a FROM instruction");
}

TEST(DockerfileInstructions, RunShellExecAndHeredoc) {
    const df::Command shell = command("RUN echo hi   there");
    const auto* run = shell.get<df::RunCommand>();
    ASSERT_NE(run, nullptr);
    EXPECT_EQ(shell.keyword, "RUN");
    EXPECT_EQ(run->command.args, std::vector<std::string>{"echo hi   there"});
    EXPECT_TRUE(run->command.prepend_shell);
    EXPECT_EQ(run->network, "default");
    EXPECT_EQ(run->security, "sandbox");

    const df::Command exec = command(R"(RUN ["echo", "hi"])");
    EXPECT_EQ(exec.get<df::RunCommand>()->command.args, (std::vector<std::string>{"echo", "hi"}));
    EXPECT_FALSE(exec.get<df::RunCommand>()->command.prepend_shell);

    const df::Program p = program("FROM a\nRUN <<EOF\necho hi\nEOF\n");
    const auto* heredoc = p.stages[0].commands[0].get<df::RunCommand>();
    ASSERT_EQ(heredoc->command.files.size(), 1U);
    EXPECT_EQ(heredoc->command.files[0].name, "EOF");
    EXPECT_EQ(heredoc->command.files[0].data, "echo hi\n");
    EXPECT_EQ(p.stages[0].commands[0].end_line, 4);
}

TEST(DockerfileInstructions, RunFlags) {
    const df::Command c = command(
        "RUN --mount=type=cache,target=/root/.cache,id=go,sharing=locked,mode=0700,uid=1 "
        "--mount=type=secret,id=tok,required --mount=type=tmpfs,target=/t,size=64m "
        "--network=none --security=insecure --device=nvidia.com/gpu=all make");
    const auto* parsed = c.get<df::RunCommand>();
    ASSERT_NE(parsed, nullptr);
    // As in BuildKit, mounts are read when their values are expanded (at dispatch); parsing
    // checks only that from= has no variables.
    ASSERT_EQ(parsed->mounts.size(), 3U);
    EXPECT_EQ(parsed->mounts[0], df::Mount{});
    EXPECT_EQ(parsed->network, "none");
    df::Command expanded = c;
    const df::WordExpander same = [](std::string_view w) { return std::string(w); };
    df::expand(expanded, same, same);
    const auto* run = expanded.get<df::RunCommand>();
    ASSERT_EQ(run->mounts.size(), 3U);
    EXPECT_EQ(run->mounts[0].type, df::MountType::kCache);
    EXPECT_EQ(run->mounts[0].target, "/root/.cache");
    EXPECT_EQ(run->mounts[0].id, "go");
    EXPECT_EQ(run->mounts[0].sharing, df::MountSharing::kLocked);
    EXPECT_EQ(run->mounts[0].mode, 0700U);
    EXPECT_EQ(run->mounts[0].uid, 1U);
    EXPECT_FALSE(run->mounts[0].read_only);  // caches are writable unless told
    EXPECT_EQ(run->mounts[1].type, df::MountType::kSecret);
    EXPECT_TRUE(run->mounts[1].read_only);
    EXPECT_TRUE(run->mounts[1].required);
    EXPECT_EQ(run->mounts[2].size_limit, 64 * 1024 * 1024);
    EXPECT_EQ(run->mounts[2].type, df::MountType::kTmpfs);
    EXPECT_EQ(run->network, "none");
    EXPECT_EQ(run->security, "insecure");
    EXPECT_EQ(run->devices, std::vector<std::string>{"nvidia.com/gpu=all"});
    EXPECT_EQ(run->flags_used,
              (std::vector<std::string>{"mount", "network", "security", "device"}));
}

TEST(DockerfileInstructions, RunFlagErrors) {
    EXPECT_EQ(error_line("RUN --network=bridge x"),
              "Dockerfile.test:2: invalid network mode \"bridge\" (use default, none or host)");
    EXPECT_EQ(error_line("RUN --security=open x"),
              "Dockerfile.test:2: security \"open\" is not valid");
    EXPECT_EQ(error_line("RUN --mount=from=$X,target=/x x"),
              "Dockerfile.test:2: 'from' doesn't support variable expansion, define alias stage "
              "instead");
    EXPECT_EQ(error_line("RUN --mont=type=bind x"),
              "Dockerfile.test:2: unknown flag: --mont (did you mean mount?)");
    EXPECT_EQ(error_line("RUN --network=none --network=host x"),
              "Dockerfile.test:2: duplicate flag specified: --network");
}

// The error parse_mount gives for `spec` once its values are expanded.
std::string mount_error(const std::string& spec) {
    const df::WordExpander same = [](std::string_view w) { return std::string(w); };
    try {
        df::parse_mount(spec, &same);
    } catch (const xarch::Error& e) {
        return e.what();
    }
    ADD_FAILURE() << "no error for " << spec;
    return {};
}

TEST(DockerfileInstructions, MountErrors) {
    EXPECT_EQ(mount_error("type=cach,target=/x"),
              "unsupported mount type \"cach\" (did you mean cache?)");
    EXPECT_EQ(mount_error("type=bind,mode=0700,target=/x"),
              "mode not allowed for \"bind\" type mounts");
    EXPECT_EQ(mount_error("type=secret"), "invalid secret mount. one of source, target required");
    EXPECT_EQ(mount_error("type=secret,id=a,source=b"), "both source and id can't be set");
    EXPECT_EQ(mount_error("type=bind,sharing=shared,target=/x"),
              "invalid cache sharing set for bind mount");
    EXPECT_EQ(mount_error("type=cache,target=/x,targt=/y"),
              "unexpected key 'targt' in 'targt=/y' (did you mean target?)");
    EXPECT_EQ(mount_error("type=bind,uid=x,target=/x"), "invalid value x for uid");
    EXPECT_EQ(mount_error("type=bind,required,target=/x"),
              "unexpected key 'required' for mount type 'bind'");
    EXPECT_EQ(mount_error("type=bind,size=1m,target=/x"),
              "unexpected key 'size' for mount type 'bind'");
    EXPECT_EQ(mount_error("type=tmpfs,size=lots,target=/x"), "invalid value for size: lots");
    EXPECT_EQ(mount_error("type=bind,target"), "invalid field 'target' must be a key=value pair");
    EXPECT_EQ(mount_error("type=bind,ro=maybe"), "invalid value for ro: maybe");
    const df::WordExpander same = [](std::string_view w) { return std::string(w); };
    const df::Mount m = df::parse_mount("type=bind,from=build,src=/out,dst=/in,rw", &same);
    EXPECT_EQ(m.from, "build");
    EXPECT_EQ(m.source, "/out");
    EXPECT_EQ(m.target, "/in");
    EXPECT_FALSE(m.read_only);
}

TEST(DockerfileInstructions, CmdEntrypointShell) {
    EXPECT_EQ(command("CMD echo hi").get<df::CmdCommand>()->command.args,
              std::vector<std::string>{"echo hi"});
    EXPECT_EQ(command(R"(ENTRYPOINT ["/app", "-v"])").get<df::EntrypointCommand>()->command.args,
              (std::vector<std::string>{"/app", "-v"}));
    EXPECT_TRUE(command("ENTRYPOINT []").get<df::EntrypointCommand>()->command.args.empty());
    EXPECT_EQ(command(R"(SHELL ["/bin/bash", "-c"])").get<df::ShellCommand>()->shell,
              (std::vector<std::string>{"/bin/bash", "-c"}));
    EXPECT_NE(error_line("SHELL /bin/bash -c")
                  .find("Dockerfile.test:2: SHELL requires the "
                        "arguments to be in JSON form"),
              std::string::npos);
    EXPECT_EQ(error_line("CMD --x=1 a"), "Dockerfile.test:2: unknown flag: --x");
}

TEST(DockerfileInstructions, LabelMaintainerExposeEnv) {
    const df::Command label_command = command(R"(LABEL a=1 "b c"="d e")");
    const auto* label = label_command.get<df::LabelCommand>();
    ASSERT_NE(label, nullptr);
    ASSERT_EQ(label->labels.size(), 2U);
    EXPECT_EQ(label->labels[1].key, "\"b c\"");  // quotes go when the words are expanded
    EXPECT_EQ(label->labels[1].value, "\"d e\"");
    EXPECT_EQ(command("MAINTAINER Jane <j@example.com>").get<df::MaintainerCommand>()->maintainer,
              "Jane <j@example.com>");
    EXPECT_EQ(command("EXPOSE 8080/udp 80 443/tcp").get<df::ExposeCommand>()->ports,
              (std::vector<std::string>{"443/tcp", "80", "8080/udp"}));  // sorted, as BuildKit
    const df::Command env_command = command("ENV PATH /usr/bin:$PATH");
    const auto* env = env_command.get<df::EnvCommand>();
    ASSERT_EQ(env->env.size(), 1U);
    EXPECT_TRUE(env->env[0].no_delim);
    EXPECT_EQ(env->env[0].value, "/usr/bin:$PATH");
    EXPECT_EQ(error_line("EXPOSE"), "Dockerfile.test:2: EXPOSE requires at least one argument");
}

TEST(DockerfileInstructions, ArgForms) {
    const df::Command arg_command = command("ARG a b=2 c= d==x");
    const auto* arg = arg_command.get<df::ArgCommand>();
    ASSERT_NE(arg, nullptr);
    ASSERT_EQ(arg->args.size(), 4U);
    EXPECT_EQ(arg->args[0], (df::ArgDefinition{"a", std::nullopt}));
    EXPECT_EQ(arg->args[1], (df::ArgDefinition{"b", "2"}));
    EXPECT_EQ(arg->args[2], (df::ArgDefinition{"c", ""}));
    EXPECT_EQ(arg->args[3], (df::ArgDefinition{"d", "=x"}));
    EXPECT_EQ(error_line("ARG =1"), "Dockerfile.test:2: ARG names can not be blank");
}

TEST(DockerfileInstructions, CopyFlags) {
    const df::Command c = command(
        "COPY --from=build --chown=1:2 --chmod=0755 --link --parents --exclude=*.md "
        "--exclude=.git a b /dst/");
    const auto* copy = c.get<df::CopyCommand>();
    ASSERT_NE(copy, nullptr);
    EXPECT_FALSE(copy->add);
    EXPECT_EQ(copy->from, "build");
    EXPECT_EQ(copy->chown, "1:2");
    EXPECT_EQ(copy->chmod, "0755");
    EXPECT_TRUE(copy->link);
    EXPECT_TRUE(copy->parents);
    EXPECT_EQ(copy->excludes, (std::vector<std::string>{"*.md", ".git"}));
    EXPECT_EQ(copy->source_paths, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(copy->dest, "/dst/");
    EXPECT_FALSE(command("COPY --link=false a b").get<df::CopyCommand>()->link);
}

TEST(DockerfileInstructions, AddFlags) {
    const df::Command add_command = command(
        "ADD --checksum=sha256:abc --keep-git-dir=true --unpack=false --chmod=644 "
        "https://example.com/x.tar /x");
    const auto* add = add_command.get<df::CopyCommand>();
    ASSERT_NE(add, nullptr);
    EXPECT_TRUE(add->add);
    EXPECT_EQ(add->checksum, "sha256:abc");
    EXPECT_EQ(add->keep_git_dir, true);
    EXPECT_EQ(add->unpack, false);
    EXPECT_EQ(add->chmod, "644");
    EXPECT_FALSE(command("ADD a b").get<df::CopyCommand>()->keep_git_dir.has_value());
    EXPECT_EQ(error_line("ADD --from=x a b"), "Dockerfile.test:2: unknown flag: --from");
    EXPECT_EQ(error_line("COPY --parents=maybe a b"),
              "Dockerfile.test:2: expecting boolean value for flag --parents, not: maybe");
    EXPECT_EQ(error_line("COPY --link= a b"), "Dockerfile.test:2: missing a value on flag: --link");
    EXPECT_EQ(error_line("COPY a"),
              "Dockerfile.test:2: COPY requires at least two arguments, but only one was "
              "provided. Destination could not be determined");
}

TEST(DockerfileInstructions, CopyHeredocSources) {
    const df::Program p =
        program("FROM a\nCOPY <<one <<-'two' /dst/\nhello $X\none\n\tbye\n\ttwo\n");
    const auto* copy = p.stages[0].commands[0].get<df::CopyCommand>();
    ASSERT_NE(copy, nullptr);
    EXPECT_TRUE(copy->source_paths.empty());
    ASSERT_EQ(copy->source_contents.size(), 2U);
    EXPECT_EQ(copy->source_contents[0], (df::SourceContent{"one", "hello $X\n", true}));
    EXPECT_EQ(copy->source_contents[1], (df::SourceContent{"two", "bye\n", false}));
    EXPECT_STREQ(error_of("FROM a\nCOPY a <<EOF\nx\nEOF\n").what(),
                 "Dockerfile.test:2: COPY cannot accept a heredoc as a destination");
}

TEST(DockerfileInstructions, VolumeUserWorkdirStopsignal) {
    EXPECT_EQ(command(R"(VOLUME ["/a", "/b"])").get<df::VolumeCommand>()->volumes,
              (std::vector<std::string>{"/a", "/b"}));
    EXPECT_EQ(command("VOLUME /a /b").get<df::VolumeCommand>()->volumes,
              (std::vector<std::string>{"/a", "/b"}));
    EXPECT_EQ(command("USER app:app").get<df::UserCommand>()->user, "app:app");
    EXPECT_EQ(command("WORKDIR /src").get<df::WorkdirCommand>()->path, "/src");
    EXPECT_EQ(command("STOPSIGNAL SIGTERM").get<df::StopSignalCommand>()->signal, "SIGTERM");
    EXPECT_EQ(command("USER a b").get<df::UserCommand>()->user, "a b");  // one string, as BuildKit
    EXPECT_EQ(error_line("WORKDIR --x=1 /a"), "Dockerfile.test:2: unknown flag: --x");
    EXPECT_EQ(error_line(R"(VOLUME [" "])"),
              "Dockerfile.test:2: VOLUME specified can not be an empty string");
}

TEST(DockerfileInstructions, Onbuild) {
    const df::Program p = program("FROM a\n\nONBUILD COPY --from=x . /app\n");
    const df::Command& c = p.stages[0].commands[0];
    const auto* ob = c.get<df::OnbuildCommand>();
    ASSERT_NE(ob, nullptr);
    EXPECT_EQ(ob->expression, "COPY --from=x . /app");
    ASSERT_EQ(ob->trigger.size(), 1U);
    EXPECT_EQ(ob->trigger[0].keyword, "COPY");
    EXPECT_EQ(ob->trigger[0].get<df::CopyCommand>()->from, "x");
    EXPECT_EQ(ob->trigger[0].start_line, 3);

    const df::Program h = program("FROM a\nONBUILD RUN <<EOF\necho hi\nEOF\n");
    const auto* heredoc = h.stages[0].commands[0].get<df::OnbuildCommand>();
    EXPECT_EQ(heredoc->expression, "RUN <<EOF\necho hi\nEOF");
    EXPECT_EQ(heredoc->trigger[0].get<df::RunCommand>()->command.files.size(), 1U);

    EXPECT_EQ(error_line("ONBUILD ONBUILD RUN x"),
              "Dockerfile.test:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    EXPECT_EQ(error_line("ONBUILD FROM x"),
              "Dockerfile.test:2: FROM isn't allowed as an ONBUILD trigger");
    EXPECT_EQ(error_line("ONBUILD MAINTAINER x"),
              "Dockerfile.test:2: MAINTAINER isn't allowed as an ONBUILD trigger");
    EXPECT_EQ(error_line("ONBUILD RUN --bad=1 x"), "Dockerfile.test:2: unknown flag: --bad");
}

TEST(DockerfileInstructions, Healthcheck) {
    const df::Command none_command = command("HEALTHCHECK NONE");
    const auto* none = none_command.get<df::HealthcheckCommand>();
    ASSERT_NE(none, nullptr);
    EXPECT_EQ(none->health.test, std::vector<std::string>{"NONE"});

    const df::Command shell_command = command(
        "HEALTHCHECK --interval=1m30s --timeout=500ms --start-period=1.5s "
        "--start-interval=2s --retries=3 CMD curl -f http://localhost/");
    const auto* shell = shell_command.get<df::HealthcheckCommand>();
    ASSERT_NE(shell, nullptr);
    EXPECT_EQ(shell->health.test,
              (std::vector<std::string>{"CMD-SHELL", "curl -f http://localhost/"}));
    EXPECT_EQ(shell->health.interval, 90s);
    EXPECT_EQ(shell->health.timeout, 500ms);
    EXPECT_EQ(shell->health.start_period, 1500ms);
    EXPECT_EQ(shell->health.start_interval, 2s);
    EXPECT_EQ(shell->health.retries, 3);

    EXPECT_EQ(command(R"(HEALTHCHECK CMD ["/bin/check", "-q"])")
                  .get<df::HealthcheckCommand>()
                  ->health.test,
              (std::vector<std::string>{"CMD", "/bin/check", "-q"}));
    EXPECT_EQ(error_line("HEALTHCHECK --interval=10 CMD x"),
              "Dockerfile.test:2: time: invalid duration \"10\" (flag --interval; write it as a Go "
              "duration such as 30s, 1m30s or 500ms)");
    EXPECT_EQ(error_line("HEALTHCHECK --timeout=10us CMD x"),
              "Dockerfile.test:2: Interval \"timeout\" cannot be less than 1ms");
    EXPECT_EQ(error_line("HEALTHCHECK --retries=-1 CMD x"),
              "Dockerfile.test:2: --retries cannot be negative (-1)");
    EXPECT_EQ(error_line("HEALTHCHECK NONE x"),
              "Dockerfile.test:2: HEALTHCHECK NONE takes no arguments");
    EXPECT_EQ(error_line("HEALTHCHECK CMD"),
              "Dockerfile.test:2: Missing command after HEALTHCHECK CMD");
    EXPECT_EQ(error_line("HEALTHCHECK TEST x"),
              "Dockerfile.test:2: Unknown type \"TEST\" in HEALTHCHECK (try CMD)");
    EXPECT_EQ(error_line("HEALTHCHECK --intervl=1s CMD x"),
              "Dockerfile.test:2: unknown flag: --intervl (did you mean interval?)");
}

TEST(DockerfileInstructions, UnknownInstruction) {
    EXPECT_EQ(error_line("RUNN make"),
              "Dockerfile.test:2: unknown instruction: RUNN (did you mean RUN?)");
}

TEST(DockerfileInstructions, ExpandAppliesToTheRightWords) {
    const df::Program p = program(
        "FROM a\nENV $K=$V\nLABEL $K=$V\nCOPY --chown=$V --from=$V $K $V\nWORKDIR $V\nUSER $V\n"
        "VOLUME $V\nSTOPSIGNAL $V\nEXPOSE $V\nCMD $V\nRUN --mount=type=bind,target=$V x $V\n");
    // Marks the words it is given.
    const df::WordExpander upper = [](std::string_view w) {
        std::string out(w);
        for (std::size_t at = out.find('$'); at != std::string::npos; at = out.find('$', at)) {
            out.replace(at, 1, "#");
        }
        return out;
    };
    std::vector<df::Command> cmds = p.stages[0].commands;
    for (df::Command& c : cmds) {
        df::expand(c, upper, upper);
    }
    EXPECT_EQ(cmds[0].get<df::EnvCommand>()->env[0].key, "#K");
    EXPECT_EQ(cmds[1].get<df::LabelCommand>()->labels[0].value, "#V");
    const auto* copy = cmds[2].get<df::CopyCommand>();
    EXPECT_EQ(copy->chown, "#V");
    EXPECT_EQ(copy->from, "$V");  // --from is never expanded
    EXPECT_EQ(copy->source_paths[0], "#K");
    EXPECT_EQ(copy->dest, "#V");
    EXPECT_EQ(cmds[3].get<df::WorkdirCommand>()->path, "#V");
    EXPECT_EQ(cmds[4].get<df::UserCommand>()->user, "#V");
    EXPECT_EQ(cmds[5].get<df::VolumeCommand>()->volumes[0], "#V");
    EXPECT_EQ(cmds[6].get<df::StopSignalCommand>()->signal, "#V");
    EXPECT_EQ(cmds[7].get<df::ExposeCommand>()->ports[0], "$V");  // EXPOSE: not by the frontend
    EXPECT_EQ(cmds[8].get<df::CmdCommand>()->command.args[0], "$V");
    const auto* run = cmds[9].get<df::RunCommand>();
    EXPECT_EQ(run->mounts[0].target, "#V");
    EXPECT_EQ(run->command.args[0], "x $V");  // the shell expands RUN
}

TEST(DockerfileGoValues, Durations) {
    EXPECT_EQ(df::parse_go_duration("1h2m3s"), 3723s);
    EXPECT_EQ(df::parse_go_duration("1.5s"), 1500ms);
    EXPECT_EQ(df::parse_go_duration("-2us"), -2us);
    EXPECT_EQ(df::parse_go_duration("0"), 0s);
    EXPECT_EQ(df::parse_go_duration("3\xC2\xB5s"), 3us);
    EXPECT_FALSE(df::parse_go_duration("").has_value());
    EXPECT_FALSE(df::parse_go_duration("5").has_value());
    EXPECT_FALSE(df::parse_go_duration("5d").has_value());
    EXPECT_FALSE(df::parse_go_duration(".s").has_value());
    EXPECT_FALSE(df::parse_go_duration("9999999999h").has_value());
    EXPECT_EQ(df::format_go_duration(90s), "1m30s");
    EXPECT_EQ(df::format_go_duration(1500ms), "1.5s");
    EXPECT_EQ(df::format_go_duration(500ms), "500ms");
    EXPECT_EQ(df::format_go_duration(0s), "0s");
    EXPECT_EQ(df::format_go_duration(3h), "3h0m0s");
}

TEST(DockerfileGoValues, SizesBoolsCsv) {
    EXPECT_EQ(df::parse_ram_in_bytes("64m"), 64 * 1024 * 1024);
    EXPECT_EQ(df::parse_ram_in_bytes("1GiB"), 1024LL * 1024 * 1024);
    EXPECT_EQ(df::parse_ram_in_bytes("100"), 100);
    EXPECT_FALSE(df::parse_ram_in_bytes("x").has_value());
    EXPECT_EQ(df::parse_go_bool("T"), true);
    EXPECT_FALSE(df::parse_go_bool("yes").has_value());
    EXPECT_EQ(df::parse_csv_fields(R"(a=1,"b=2,3","c ""d""")"),
              (std::vector<std::string>{"a=1", "b=2,3", "c \"d\""}));
    EXPECT_FALSE(df::parse_csv_fields(R"(a"b)").has_value());
    EXPECT_FALSE(df::parse_csv_fields(R"("a)").has_value());
}

}  // namespace
