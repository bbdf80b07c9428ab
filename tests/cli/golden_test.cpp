// Golden bytes: a profile + seed pinned to exact output, labels and episodes.
#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/test_support.hpp"

using namespace synthfeed::testing;

TEST(Golden, ProfileAndSeedPinExactBytes) {
    const auto dir = temp_dir("golden");
    const std::string golden = source_path("tests/golden/");
    const auto r = run_synthfeed(
        "run " + golden + "golden.toml --count 300 --threads 2 --progress off --sink file:" +
        (dir / "data.jsonl").string() + " --labels " + (dir / "labels.jsonl").string() +
        " --episodes " + (dir / "episodes.jsonl").string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const char* name : {"data.jsonl", "labels.jsonl", "episodes.jsonl"}) {
        const std::string actual = read_file(dir / name);
        if (std::getenv("SYNTHFEED_UPDATE_GOLDEN")) write_file(golden + name, actual);
        EXPECT_EQ(actual, read_file(golden + name)) << name << " differs from the golden copy";
    }
    std::filesystem::remove_all(dir);
}
