// The vocabularies of kinds (src/config/kinds.hpp, the format tables) against what users read:
// the README's tables, `synthfeed list` and `--help`. A kind added to a table and not
// documented, or documented and gone, fails here.
#include <gtest/gtest.h>

#include <sstream>

#include <fmt/format.h>

#include "connectors/connector_registry.hpp"
#include "src/config/kinds.hpp"
#include "src/encode/message_encoder.hpp"
#include "src/labels/label_encoder.hpp"
#include "src/telemetry/thresholds.hpp"
#include "tests/test_support.hpp"

namespace synthfeed {
namespace {

using namespace synthfeed::testing;

/// A row of a markdown table: the backticked names of its first cell, and the other cells.
struct readme_row {
    std::vector<std::string> names;
    std::string rest;
};

std::vector<std::string> backticked(std::string_view cell) {
    std::vector<std::string> out;
    for (std::size_t open = cell.find('`'); open != std::string_view::npos;) {
        const std::size_t close = cell.find('`', open + 1);
        if (close == std::string_view::npos) break;
        out.emplace_back(cell.substr(open + 1, close - open - 1));
        open = cell.find('`', close + 1);
    }
    return out;
}

/// The body rows of the first markdown table after the first line holding `anchor`.
std::vector<readme_row> table_after(const std::string& readme, std::string_view anchor) {
    std::istringstream in(readme.substr(readme.find(anchor)));
    std::vector<readme_row> rows;
    std::string line;
    int seen = 0; // table lines so far: the header and separator come first
    while (std::getline(in, line)) {
        const auto bar = line.find_first_not_of(' ');
        const bool in_table = bar != std::string::npos && line[bar] == '|';
        if (!in_table) {
            if (seen > 0) break;
            continue;
        }
        if (++seen <= 2) continue;
        const std::string_view row(line);
        const auto second = row.find('|', bar + 1);
        rows.push_back(
            {backticked(row.substr(bar + 1, second - bar - 1)), std::string(row.substr(second))});
    }
    return rows;
}

std::vector<std::string> names_in(const std::vector<readme_row>& rows) {
    std::vector<std::string> out;
    for (const auto& r : rows) out.insert(out.end(), r.names.begin(), r.names.end());
    return out;
}

template <class Row, std::size_t N, class Keep>
std::vector<std::string> table_names(const vocabulary<Row, N>& table, Keep keep) {
    std::vector<std::string> out;
    for (const Row& row : table)
        if (keep(row)) out.emplace_back(row.name);
    return out;
}
template <class Row, std::size_t N>
std::vector<std::string> table_names(const vocabulary<Row, N>& table) {
    return table_names(table, [](const Row& row) { return row.name != "none"; });
}

/// Every key a row takes is named, backticked, in its README row.
template <class Row, std::size_t N>
void expect_keys_documented(const vocabulary<Row, N>& table, const std::vector<readme_row>& rows) {
    for (const auto& r : rows)
        for (const auto& name : r.names) {
            const Row* row = table.find(name);
            ASSERT_NE(row, nullptr) << name;
            std::istringstream keys{std::string(row->keys)};
            for (std::string key; keys >> key;)
                EXPECT_NE(r.rest.find("`" + key), std::string::npos)
                    << "README row of " << name << " does not name its key " << key;
        }
}

class Vocabulary : public ::testing::Test {
  protected:
    const std::string readme = read_file(source_path("README.md"));
};

TEST_F(Vocabulary, ReadmeSignalTableListsEverySignalWithItsKeys) {
    const auto rows = table_after(readme, "**Signals**");
    EXPECT_EQ(names_in(rows), table_names(signal_kinds));
    expect_keys_documented(signal_kinds, rows);
}

TEST_F(Vocabulary, ReadmeNoiseAndDriftTablesListEveryKindWithItsKeys) {
    const auto noise = table_after(readme, "**Noise**");
    EXPECT_EQ(names_in(noise), table_names(noise_kinds));
    expect_keys_documented(noise_kinds, noise);
    const auto drift = table_after(readme, "**Drift**");
    EXPECT_EQ(names_in(drift), table_names(drift_kinds));
    expect_keys_documented(drift_kinds, drift);
}

TEST_F(Vocabulary, ReadmeEpisodeTablesListEveryKindOfTheirTable) {
    EXPECT_EQ(names_in(table_after(readme, "| kind | effect on the field during the episode |")),
              table_names(anomaly_kinds, written_in("anomaly")));
    const auto faults = table_after(readme, "| kind | keys | what the stream shows |");
    EXPECT_EQ(names_in(faults), table_names(anomaly_kinds, written_in("fault")));
    expect_keys_documented(anomaly_kinds, faults);
    const auto fraud = table_after(readme, "| kind | transactions during the episode |");
    EXPECT_EQ(names_in(fraud), table_names(anomaly_kinds, written_in("fraud")));
    // The fraud table states each typology's default magnitude range.
    for (const auto& r : fraud) {
        const anomaly_kind_row& row = *anomaly_kinds.find(r.names.front());
        if (row.keys.find("magnitude") == std::string_view::npos) continue;
        EXPECT_NE(r.rest.find(fmt::format("{:g}–{:g}", row.magnitude_lo, row.magnitude_hi)),
                  std::string::npos)
            << row.name;
    }
}

TEST_F(Vocabulary, ReadmeLoadShapeTableListsEveryShapeWithItsKeys) {
    const auto rows = table_after(readme, "| shape | parameters | target rate |");
    EXPECT_EQ(names_in(rows), table_names(load_shapes));
    expect_keys_documented(load_shapes, rows);
}

TEST_F(Vocabulary, ReadmeThresholdTableListsEveryMetric) {
    const auto rows = table_after(readme, "| metric | unit | abort_on_fail | what |");
    std::vector<std::string> metrics;
    for (const auto& m : synthfeed::threshold_metrics) metrics.emplace_back(m.name);
    EXPECT_EQ(names_in(rows), metrics);
    for (const auto& row : rows)
        for (const auto& name : row.names)
            for (const auto& m : synthfeed::threshold_metrics) {
                if (m.name != name) continue;
                EXPECT_NE(row.rest.find(m.live ? "| yes |" : "| no |"), std::string::npos)
                    << name << ": abort_on_fail column";
            }
}

TEST_F(Vocabulary, ReadmeFlagTableNamesEveryFormat) {
    for (const auto& row : table_after(readme, "| flag | default | meaning |")) {
        if (row.names.empty()) continue;
        auto expect_all = [&](const auto& table) {
            for (const auto& k : table)
                EXPECT_NE(row.rest.find("`" + std::string(k.name) + "`"), std::string::npos)
                    << row.names.front() << " row lacks " << k.name;
        };
        if (row.names.front() == "--format") expect_all(payload_formats);
        if (row.names.front() == "--labels-format") expect_all(label_formats);
    }
}

TEST(VocabularyCli, ListAndHelpNameEveryKind) {
    const auto list = run_synthfeed("list");
    ASSERT_EQ(list.exit_code, 0) << list.err;
    auto listed = [&](std::string_view name) {
        return list.out.find("  " + std::string(name) + " ") != std::string::npos;
    };
    for (const auto& k : signal_kinds) EXPECT_TRUE(listed(k.name)) << k.name;
    for (const auto& k : noise_kinds) EXPECT_TRUE(k.name == "none" || listed(k.name)) << k.name;
    for (const auto& k : drift_kinds) EXPECT_TRUE(k.name == "none" || listed(k.name)) << k.name;
    for (const auto& k : anomaly_kinds) EXPECT_TRUE(listed(k.name)) << k.name;
    for (const auto& k : load_shapes) EXPECT_TRUE(k.name == "none" || listed(k.name)) << k.name;
    for (const auto& k : payload_formats) EXPECT_TRUE(listed(k.name)) << k.name;
    for (const auto& m : synthfeed::threshold_metrics) EXPECT_TRUE(listed(m.name)) << m.name;
    for (const auto& k : label_formats) EXPECT_TRUE(listed(k.name)) << k.name;

    const auto help = run_synthfeed("run --help");
    for (const auto& k : connector_kinds())
        EXPECT_NE(help.out.find(std::string(k.synopsis)), std::string::npos) << k.scheme;
    for (const auto& k : payload_formats)
        EXPECT_NE(help.out.find(std::string(k.name)), std::string::npos) << k.name;
    for (const auto& k : label_formats)
        EXPECT_NE(help.out.find(std::string(k.name)), std::string::npos) << k.name;
}

TEST(VocabularyTables, NamesAreUniqueAndLookupsRoundTrip) {
    for (const auto& k : anomaly_kinds) {
        EXPECT_EQ(parse_anomaly_kind(k.name), k.kind);
        EXPECT_EQ(to_string(k.kind), k.name);
        EXPECT_EQ(anomaly_kinds.find(k.name), &k) << "a second row is named " << k.name;
    }
    EXPECT_FALSE(parse_anomaly_kind("Spike"));
    for (const auto& k : signal_kinds) EXPECT_EQ(signal_kinds.find(k.name), &k);
    for (const auto& k : load_shapes) EXPECT_EQ(load_shapes.find(k.name), &k);
    for (const auto& k : payload_formats) EXPECT_EQ(parse_payload_format(k.name), k.kind);
    EXPECT_EQ(names_of(label_formats), "jsonl, csv, timeeval, nab");
}

} // namespace
} // namespace synthfeed
