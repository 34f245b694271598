// SPDX-License-Identifier: Apache-2.0
// ImageConfig: the spec's example, Docker's configs with fields xarch does not model (which must
// survive a round trip), golden bytes, and the schema's checks.
#include "oci_test_util.hpp"

#include <xarch/descriptor.hpp>
#include <xarch/error.hpp>
#include <xarch/image_index.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace {

using testing::HasSubstr;
using xarch::Digest;
using xarch::ErrorCode;
using xarch::HealthConfig;
using xarch::ImageConfig;
using xarch::parse_config;
using xarch::Platform;
using xarch::Validation;
using xarch::test::error_of;

const std::string kSpecConfig = R"({
    "created": "2015-10-31T22:22:56.015925234Z",
    "author": "Alyssa P. Hacker <alyspdev@example.com>",
    "architecture": "amd64",
    "os": "linux",
    "config": {
        "User": "alice",
        "ExposedPorts": {"8080/tcp": {}},
        "Env": [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "FOO=oci_is_a"
        ],
        "Entrypoint": ["/bin/my-app-binary"],
        "Cmd": ["--foreground", "--config", "/etc/my-app.d/default.cfg"],
        "Volumes": {"/var/job-result-data": {}, "/var/log/my-app-logs": {}},
        "WorkingDir": "/home/alice",
        "Labels": {"com.example.project.git.url": "https://example.com/project.git"}
    },
    "rootfs": {
      "diff_ids": [
        "sha256:c6f988f4874bb0add23a778f753c65efe992244e148a1d2ec2a8b664fb66bbd1",
        "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
      ],
      "type": "layers"
    },
    "history": [
      {
        "created": "2015-10-31T22:22:54.690851953Z",
        "created_by": "/bin/sh -c #(nop) ADD file:a3 in /"
      },
      {
        "created": "2015-10-31T22:22:55.613815829Z",
        "created_by": "/bin/sh -c #(nop) CMD [\"sh\"]",
        "empty_layer": true
      }
    ]
})";

const std::string kSpecConfigCompact =
    R"({"created":"2015-10-31T22:22:56.015925234Z",)"
    R"("author":"Alyssa P. Hacker \u003calyspdev@example.com\u003e","architecture":"amd64",)"
    R"("os":"linux","config":{"User":"alice","ExposedPorts":{"8080/tcp":{}},)"
    R"("Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","FOO=oci_is_a"],)"
    R"("Entrypoint":["/bin/my-app-binary"],"Cmd":["--foreground","--config",)"
    R"("/etc/my-app.d/default.cfg"],)"
    R"("Volumes":{"/var/job-result-data":{},"/var/log/my-app-logs":{}},"WorkingDir":"/home/alice",)"
    R"("Labels":{"com.example.project.git.url":"https://example.com/project.git"}},)"
    R"("rootfs":{"type":"layers","diff_ids":[)"
    R"("sha256:c6f988f4874bb0add23a778f753c65efe992244e148a1d2ec2a8b664fb66bbd1",)"
    R"("sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"]},)"
    R"("history":[{"created":"2015-10-31T22:22:54.690851953Z",)"
    R"("created_by":"/bin/sh -c #(nop) ADD file:a3 in /"},)"
    R"({"created":"2015-10-31T22:22:55.613815829Z",)"
    R"("created_by":"/bin/sh -c #(nop) CMD [\"sh\"]","empty_layer":true}]})";

// Trimmed from image-spec's backwards-compatibility case: what `docker build` wrote in 2016.
const std::string kDockerConfig =
    R"({"architecture":"amd64","author":"Patrick","config":{"Hostname":"8dfe43d80430",)"
    R"("Domainname":"","User":"","AttachStdin":false,"Tty":false,"Env":["PATH=/usr/bin"],)"
    R"("Cmd":null,)"
    R"("Image":"sha256:6986ae504bbf843512d680cc959484452034965db15f75ee8bdd1b107f61500b",)"
    R"("Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{},)"
    R"("Healthcheck":{"Test":["CMD-SHELL","true"],"Interval":30000000000,"Retries":3,)"
    R"("Future":[1]},)"
    R"("Shell":["/bin/bash","-c"],"StopTimeout":10},)"
    R"("container":"6249cd2c4b1d","container_config":{"Hostname":"8dfe43d80430",)"
    R"("Cmd":["/bin/sh","-c","#(nop) ADD file:29 in /"]},)"
    R"("created":"2016-06-10T18:44:31.784795904Z","docker_version":"1.10.3",)"
    R"("history":[{"created":"2016-06-10T18:44:03.360264073Z","author":"Patrick",)"
    R"("created_by":"/bin/sh -c #(nop) MAINTAINER","empty_layer":true,"moby.extra":{"x":1.5}}],)"
    R"("os":"linux","rootfs":{"type":"layers",)"
    R"("diff_ids":["sha256:d43f38155a799dc53d8fbb9f3bc11f51805f4027cd5c3d10b9823201cd5b9400"],)"
    R"("base_layer":"x"}})";

std::string error_text(const std::string& json, Validation validation = Validation::kCompatible) {
    const auto e = error_of([&] { parse_config(json, validation); });
    if (!e) {
        return "";
    }
    EXPECT_EQ(e->code(), ErrorCode::kInvalidArgument);
    return e->what();
}

std::string minimal(const std::string& more) {
    return R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]})" +
           more + "}";
}

TEST(ImageConfigTest, ParsesSpecExample) {
    const ImageConfig c = parse_config(kSpecConfig);
    EXPECT_EQ(c.created, "2015-10-31T22:22:56.015925234Z");
    EXPECT_EQ(c.architecture, "amd64");
    EXPECT_EQ(c.platform(), Platform("linux", "amd64"));
    EXPECT_EQ(c.config.user, "alice");
    EXPECT_EQ(c.config.exposed_ports, std::set<std::string>{"8080/tcp"});
    EXPECT_EQ(c.config.env.size(), 2u);
    ASSERT_TRUE(c.config.entrypoint);
    EXPECT_EQ(*c.config.entrypoint, std::vector<std::string>{"/bin/my-app-binary"});
    EXPECT_EQ(c.config.cmd->size(), 3u);
    EXPECT_EQ(c.config.volumes.size(), 2u);
    EXPECT_EQ(c.rootfs.diff_ids.size(), 2u);
    ASSERT_EQ(c.history.size(), 2u);
    EXPECT_TRUE(c.history[1].empty_layer);
    EXPECT_TRUE(c.extra.empty());
}

TEST(ImageConfigTest, SerializesDeterministicallyAsBuildKitDoes) {
    const ImageConfig c = parse_config(kSpecConfig);
    EXPECT_EQ(c.serialize(), kSpecConfigCompact);
    EXPECT_EQ(parse_config(c.serialize()), c);
    EXPECT_EQ(c.to_raw().digest, Digest::of(kSpecConfigCompact));
    EXPECT_EQ(c.to_raw().media_type, xarch::media_type::kOciConfig);
}

TEST(ImageConfigTest, UnknownFieldsSurviveARoundTrip) {
    const ImageConfig c = parse_config(kDockerConfig);
    EXPECT_EQ(c.extra.at("container"), R"("6249cd2c4b1d")");
    EXPECT_EQ(c.extra.at("docker_version"), R"("1.10.3")");
    EXPECT_EQ(c.extra.at("container_config"),
              R"({"Hostname":"8dfe43d80430","Cmd":["/bin/sh","-c","#(nop) ADD file:29 in /"]})");
    EXPECT_EQ(c.config.extra.at("Hostname"), R"("8dfe43d80430")");
    EXPECT_EQ(c.config.extra.at("AttachStdin"), "false");
    EXPECT_EQ(c.config.extra.at("StopTimeout"), "10");
    EXPECT_EQ(c.rootfs.extra.at("base_layer"), R"("x")");
    EXPECT_EQ(c.history[0].extra.at("moby.extra"), R"({"x":1.5})");
    ASSERT_TRUE(c.config.healthcheck);
    EXPECT_EQ(c.config.healthcheck->interval, std::chrono::seconds(30));
    EXPECT_EQ(c.config.healthcheck->retries, 3);
    EXPECT_EQ(c.config.healthcheck->extra.at("Future"), "[1]");
    EXPECT_EQ(c.config.shell, (std::vector<std::string>{"/bin/bash", "-c"}));
    // Docker's nulls mean "not set".
    EXPECT_FALSE(c.config.cmd);
    EXPECT_FALSE(c.config.entrypoint);
    EXPECT_TRUE(c.config.on_build.empty());

    const std::string once = c.serialize();
    const ImageConfig again = parse_config(once);
    EXPECT_EQ(again, c);
    EXPECT_EQ(again.serialize(), once);
    EXPECT_THAT(once, HasSubstr(R"("container_config":{"Hostname":"8dfe43d80430")"));
    EXPECT_THAT(once, HasSubstr(R"("Shell":["/bin/bash","-c"],"AttachStdin":false)"));
}

TEST(ImageConfigTest, EmptyListsAreKeptApartFromUnset) {
    const ImageConfig c = parse_config(minimal(R"(,"config":{"Entrypoint":[],"Cmd":null})"));
    ASSERT_TRUE(c.config.entrypoint);
    EXPECT_TRUE(c.config.entrypoint->empty());
    EXPECT_FALSE(c.config.cmd);
    EXPECT_THAT(c.serialize(), HasSubstr(R"("config":{"Entrypoint":[]})"));
}

TEST(ImageConfigTest, EmptyContainerConfigIsLeftOut) {
    ImageConfig c;
    c.architecture = "arm64";
    c.os = "linux";
    c.variant = "v8";
    c.rootfs.diff_ids = {Digest::of("layer")};
    EXPECT_EQ(c.serialize(), R"({"architecture":"arm64","os":"linux","variant":"v8",)"
                             R"("rootfs":{"type":"layers","diff_ids":[")" +
                                 Digest::of("layer").to_string() + R"("]}})");
}

TEST(ImageConfigTest, HealthcheckGolden) {
    ImageConfig c;
    c.architecture = "amd64";
    c.os = "linux";
    HealthConfig health;
    health.test = {"CMD", "true"};
    health.interval = std::chrono::seconds(5);
    health.start_interval = std::chrono::milliseconds(500);
    health.retries = 2;
    c.config.healthcheck = health;
    c.config.args_escaped = true;
    c.config.on_build = {"RUN true"};
    EXPECT_EQ(c.serialize(), R"({"architecture":"amd64","os":"linux","config":{"ArgsEscaped":true,)"
                             R"("Healthcheck":{"Test":["CMD","true"],"Interval":5000000000,)"
                             R"("StartInterval":500000000,"Retries":2},"OnBuild":["RUN true"]},)"
                             R"("rootfs":{"type":"layers","diff_ids":[]}})");
    EXPECT_EQ(parse_config(c.serialize()), c);
}

TEST(ImageConfigTest, ExtraNumbersAreWrittenAsGoWritesThem) {
    const ImageConfig c = parse_config(minimal(
        R"(,"n":{"a":1.5,"b":1e21,"c":1e-7,"d":100,"e":1.0,"f":-0.000001,"g":123456789.25})"));
    EXPECT_EQ(c.extra.at("n"),
              R"({"a":1.5,"b":1e+21,"c":1e-7,"d":100,"e":1,"f":-0.000001,"g":123456789.25})");
}

TEST(ImageConfigTest, BrokenExtraFieldIsRefusedOnSerialize) {
    ImageConfig c = parse_config(minimal(""));
    c.extra["bad"] = "{not json";
    const auto e = error_of([&] { c.serialize(); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::kInvalidArgument);
    // A known key in extra is ignored rather than written twice.
    c.extra = {{"os", R"("windows")"}};
    EXPECT_EQ(parse_config(c.serialize()).os, "linux");
}

TEST(ImageConfigTest, ChecksTheSchema) {
    EXPECT_THAT(
        error_text(R"({"architecture":"amd64","os":123,"rootfs":{"type":"layers","diff_ids":[]}})"),
        HasSubstr("invalid config: \"os\" must be a string, got a number"));
    EXPECT_THAT(error_text(R"({"os":"linux","rootfs":{"type":"layers","diff_ids":[]}})"),
                HasSubstr("\"architecture\" is required"));
    EXPECT_THAT(error_text(R"({"architecture":"amd64","os":"linux"})"),
                HasSubstr("\"rootfs\" is required"));
    EXPECT_THAT(
        error_text(R"({"architecture":"amd64","os":"linux","rootfs":{"type":"x","diff_ids":[]}})"),
        HasSubstr("\"rootfs.type\" must be \"layers\""));
    EXPECT_THAT(error_text(R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}})"),
                HasSubstr("\"rootfs.diff_ids\" is required"));
    EXPECT_THAT(error_text(minimal(R"(,"config":{"Env":["foo"]})")),
                HasSubstr("\"config.Env[0]\" must be NAME=value, got \"foo\""));
    EXPECT_THAT(error_text(minimal(R"(,"config":{"Env":["=x"]})")), HasSubstr("NAME=value"));
    EXPECT_THAT(error_text(minimal(R"(,"config":{"Env":[7353]})")),
                HasSubstr("\"config.Env[0]\" must be a string"));
    EXPECT_THAT(error_text(minimal(R"(,"config":{"Volumes":["/a"]})")),
                HasSubstr("\"config.Volumes\" must be an object, got an array"));
    EXPECT_THAT(error_text(minimal(R"(,"config":{"ExposedPorts":{"80/tcp":1}})")),
                HasSubstr("\"config.ExposedPorts.80/tcp\" must be an object"));
    EXPECT_THAT(error_text(minimal(R"(,"config":{"User":1234})")),
                HasSubstr("\"config.User\" must be a string"));
    EXPECT_THAT(error_text(minimal(R"(,"history":"should be an array")")),
                HasSubstr("\"history\" must be an array"));
    EXPECT_THAT(error_text(minimal(R"(,"created":"yesterday")")),
                HasSubstr("\"created\" is not an RFC 3339 date-time"));
    EXPECT_THAT(error_text(minimal(R"(,"history":[{"created":"2015-02-29T00:00:00Z"}])")),
                HasSubstr("\"history[0].created\" is not an RFC 3339 date-time"));
    EXPECT_THAT(error_text(R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers",)"
                           R"("diff_ids":["nope"]}})"),
                HasSubstr("\"rootfs.diff_ids[0]\" holds an invalid digest"));
    EXPECT_THAT(error_text("invalid JSON"), HasSubstr("malformed JSON"));
}

TEST(ImageConfigTest, NullsFollowTheValidationMode) {
    const std::string json = minimal(R"(,"config":{"Env":null,"Labels":null,"Cmd":null})");
    EXPECT_TRUE(parse_config(json).config.env.empty());
    EXPECT_THAT(error_text(json, Validation::kSchema),
                HasSubstr("\"config.Env\" must not be null"));
    // The schema itself allows null for Labels, Cmd, Entrypoint and Volumes.
    EXPECT_NO_THROW(parse_config(
        minimal(R"(,"config":{"Labels":null,"Cmd":null,"Entrypoint":null,"Volumes":null})"),
        Validation::kSchema));
}

TEST(ImageConfigTest, DateTimes) {
    for (const char* ok :
         {"2015-10-31T22:22:56.015925234Z", "2016-02-29T00:00:00Z", "2015-10-31t22:22:56z",
          "2015-12-31T23:59:60+01:00", "0001-01-01T00:00:00Z", "2000-02-29T00:00:00.5-07:30"}) {
        EXPECT_EQ(error_text(minimal(std::string(R"(,"created":")") + ok + "\"")), "") << ok;
    }
    for (const char* bad :
         {"2015-10-31", "2015-10-31T22:22:56", "2015-13-01T00:00:00Z", "1900-02-29T00:00:00Z",
          "2015-10-31T24:00:00Z", "2015-10-31T22:22:56.Z", "2015-10-31T22:22:56+0100",
          "2015-10-31 22:22:56Z", "2015-10-31T22:22:56Zjunk"}) {
        EXPECT_NE(error_text(minimal(std::string(R"(,"created":")") + bad + "\"")), "") << bad;
    }
}

}  // namespace
