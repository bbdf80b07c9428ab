#pragma once
/// The Numenta Anomaly Benchmark layout (Lavin & Ahmad 2015; github.com/numenta/NAB): one
/// `timestamp,value` CSV per device and numeric field, as NAB's data/<category>/<name>.csv,
/// and the label files its scorer reads.
///
/// Files: DIR/data/<group>/<device_id>.<field>.csv (the group is NAB's category; names as
/// file_name_part writes them), DIR/labels/combined_labels.json and
/// DIR/labels/combined_windows.json, each an object keyed by every data file's path under
/// data/ ("reefer/reefer-00042.temp_c.csv"), sorted, as NAB writes them.
///
/// Timestamps as NAB writes them: data rows "YYYY-MM-DD HH:MM:SS" (with ".mmm" in a file
/// whose rows are not all whole seconds: synthfeed's clock counts milliseconds); labels as
/// pandas prints a Timestamp ("2026-01-01 00:10:00", ".ffffff" when not a whole second);
/// windows as NAB's strf ("%Y-%m-%d %H:%M:%S.%f"). Every one is the timestamp of a row of
/// its file, as NAB's labeller requires.
///
/// What a file's anomalies are: the labelled episodes (value and fraud classes, the label
/// rule) that act on its field, or on the whole device (a dropout, a fraud typology).
/// combined_labels lists each one's onset, the timestamp of its first row (a dropout's: the
/// first row after it). combined_windows holds `synthfeed score`'s NAB windows (nab_windows:
/// each window starts at its onset and spans the larger of the episode's rows and
/// floor(0.1 × rows / episodes), NAB's window share; overlapping windows merged). NAB's own
/// labeller centres a window of that share on a human label instead; synthfeed knows the
/// onset, so a detection before it is a false alarm, and `score` and NAB grade the same
/// windows. NAB's scorer skips a probationary first 15 % of each file; `score` does not.

#include <filesystem>
#include <string>

#include "src/layouts/layout_store.hpp"

namespace synthfeed {

/// Writes the layout of `store` (finished) into `dir`; returns "" or what failed.
std::string write_nab_layout(const layout_store& store, const std::filesystem::path& dir);

} // namespace synthfeed
