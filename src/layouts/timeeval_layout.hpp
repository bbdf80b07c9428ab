#pragma once
/// The TimeEval layout (Schmidl, Wenig, Papenbrock, "Anomaly Detection in Time Series: A
/// Comprehensive Evaluation", VLDB 2022; github.com/TimeEval/TimeEval): one CSV per device,
/// `timestamp,<numeric fields…>,is_anomaly`, and the index `datasets.csv` that TimeEval's
/// DatasetManager reads.
///
/// Files: DIR/datasets.csv and DIR/<group>/<device_id>.csv (names as file_name_part writes
/// them). A device without rows (all its ticks silenced, or cut by --count) and a group
/// without numeric fields have none.
///
/// datasets.csv has TimeEval's 22 columns; per device: collection_name the group,
/// dataset_name the device id, test_path the CSV (relative to DIR), train_path and split_at
/// empty (one unsupervised series: train_type `unsupervised`, train_is_normal False),
/// dataset_type `synthetic`, datetime_index True (RFC 3339 timestamps), input_type
/// `univariate` or `multivariate` by the number of numeric fields (dimensions), length the
/// rows, contamination the share of rows with is_anomaly 1, num_anomalies the runs of 1s and
/// min/median/max_anomaly_length their lengths in rows (TimeEval's DatasetAnalyzer rule: the
/// median truncated to a whole number; all 0 without anomalies), mean and stddev as
/// TimeEval's DatasetMetadata has them (the mean over the channels of each one's mean and
/// sample standard deviation). trend, stationarity and period_size are left empty: TimeEval's
/// DatasetAnalyzer derives the first two (regressions, ADF and KPSS tests) when asked.

#include <filesystem>
#include <string>

#include "src/layouts/layout_store.hpp"

namespace synthfeed {

/// Writes the layout of `store` (finished) into `dir`; returns "" or what failed.
std::string write_timeeval_layout(const layout_store& store, const std::filesystem::path& dir);

} // namespace synthfeed
