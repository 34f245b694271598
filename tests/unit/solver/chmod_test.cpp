// SPDX-License-Identifier: Apache-2.0
// --chmod values: octal with special bits, chmod(1)'s symbolic clauses (who, op, perms, X, copy
// from a class), and the values BuildKit refuses.
#include "solver/chmod.hpp"

#include <xarch/error.hpp>

#include <gtest/gtest.h>

#include <string>

namespace xarch::solver {
namespace {

TEST(Chmod, OctalReplacesTheMode) {
    EXPECT_EQ(Chmod::parse("755").apply(0644, false), 0755U);
    EXPECT_EQ(Chmod::parse("0644").apply(0755, true), 0644U);
    EXPECT_EQ(Chmod::parse("4755").octal(), 04755U);
    EXPECT_EQ(Chmod::parse("07777").apply(0, false), 07777U);
    EXPECT_EQ(Chmod::parse("0").apply(0755, false), 0U);
    EXPECT_EQ(Chmod::parse("u+x").octal(), 0xffffffffU);
}

TEST(Chmod, SymbolicClausesApplyToEachFilesMode) {
    EXPECT_EQ(Chmod::parse("u+x").apply(0644, false), 0744U);
    EXPECT_EQ(Chmod::parse("go-w").apply(0666, false), 0644U);
    EXPECT_EQ(Chmod::parse("o=").apply(0777, false), 0770U);
    EXPECT_EQ(Chmod::parse("+x,g=u").apply(0600, false), 0771U);
    EXPECT_EQ(Chmod::parse("u+s").apply(0755, false), 04755U);
    EXPECT_EQ(Chmod::parse("g+s,+t").apply(0755, true), 03755U);
    EXPECT_EQ(Chmod::parse("u=rw,go=r").apply(0777, false), 0644U);
    EXPECT_EQ(Chmod::parse("a-w+x").apply(0644, false), 0555U);
}

TEST(Chmod, CapitalXIsForDirectoriesAndExecutables) {
    EXPECT_EQ(Chmod::parse("a=rX").apply(0640, true), 0555U);
    EXPECT_EQ(Chmod::parse("a=rX").apply(0640, false), 0444U);
    EXPECT_EQ(Chmod::parse("a=rX").apply(0740, false), 0555U);
}

TEST(Chmod, BadValuesQuoteTheValue) {
    for (const char* bad : {"", "8", "07778", "10000", "u+q", "x+r", "u+x,", ",u+x", "u", "ug"}) {
        try {
            Chmod::parse(bad);
            ADD_FAILURE() << "accepted " << bad;
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << bad;
            EXPECT_NE(std::string(e.what()).find(std::string("\"") + bad + "\""), std::string::npos)
                << e.what();
        }
    }
}

}  // namespace
}  // namespace xarch::solver
