// The statistics of `synthfeed compare` against cases with known answers.

#include <cmath>
#include <numbers>
#include <random>

#include <gtest/gtest.h>

#include "src/analysis/fidelity_report.hpp"
#include "src/analysis/fidelity_stats.hpp"

namespace synthfeed {
namespace {

std::vector<double> white_noise(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal(0, 1);
    std::vector<double> v(n);
    for (double& x : v) x = normal(rng);
    return v;
}

/// x_t = phi x_{t-1} + e_t, started from its stationary distribution.
std::vector<double> ar1(std::size_t n, double phi, std::uint64_t seed) {
    std::vector<double> v = white_noise(n, seed);
    v[0] /= std::sqrt(1 - phi * phi);
    for (std::size_t t = 1; t < n; ++t) v[t] += phi * v[t - 1];
    return v;
}

std::vector<double> sine(std::size_t n, double cycles_per_sample) {
    std::vector<double> v(n);
    for (std::size_t t = 0; t < n; ++t)
        v[t] = std::sin(2 * std::numbers::pi * cycles_per_sample * static_cast<double>(t));
    return v;
}

TEST(KsDistance, IdenticalSamplesAreZero) {
    const auto v = white_noise(1000, 1);
    EXPECT_EQ(ks_distance(v, v), 0.0);
}

TEST(KsDistance, DisjointSamplesAreOne) {
    EXPECT_EQ(ks_distance({1, 2, 3}, {10, 11, 12, 13}), 1.0);
}

TEST(KsDistance, MatchesAHandComputedCase) {
    // F_a - F_b at 1, 2, 3, 4: 1/4, 2/4, 3/4 - 1/5, 1 - 2/5: the largest is 0.6.
    EXPECT_NEAR(ks_distance({1, 2, 3, 4}, {3, 4, 5, 6, 7}), 0.6, 1e-12);
    // Ties step both ECDFs together: at 1, 2/3 - 1/3; at 2, 1 - 1.
    EXPECT_NEAR(ks_distance({1, 1, 2}, {1, 2, 2}), 1.0 / 3, 1e-12);
}

TEST(Autocorrelation, WhiteNoiseIsNearZero) {
    // On 100k points r_k has a standard error of 1/sqrt(n) = 0.003; 0.015 is five of them.
    const auto r = autocorrelation(white_noise(100'000, 2), 48);
    ASSERT_EQ(r.size(), 49u);
    EXPECT_DOUBLE_EQ(r[0], 1.0);
    for (std::size_t k = 1; k < r.size(); ++k) EXPECT_NEAR(r[k], 0.0, 0.015) << "lag " << k;
}

TEST(Autocorrelation, Ar1MatchesPhiToTheLag) {
    // Bartlett: the standard error of r_1 for an AR(1) is sqrt((1 - phi^2) / n) = 0.0019.
    const auto r = autocorrelation(ar1(100'000, 0.8, 3), 5);
    EXPECT_NEAR(r[1], 0.8, 0.01);
    EXPECT_NEAR(r[2], 0.64, 0.015);
}

TEST(Autocorrelation, MatchesTheDirectSum) {
    const std::vector<double> v{1, 3, 2, 5, 4, 6};
    const double m = 3.5;
    double c0 = 0, c2 = 0;
    for (std::size_t t = 0; t < v.size(); ++t) c0 += (v[t] - m) * (v[t] - m);
    for (std::size_t t = 0; t + 2 < v.size(); ++t) c2 += (v[t] - m) * (v[t + 2] - m);
    EXPECT_NEAR(autocorrelation(v, 3)[2], c2 / c0, 1e-12);
}

TEST(Autocorrelation, ConstantSeriesHasNoCorrelation) {
    const auto r = autocorrelation(std::vector<double>(100, 7.0), 4);
    EXPECT_EQ(r[0], 1.0);
    EXPECT_EQ(r[1], 0.0);
}

TEST(Periodogram, PeaksAtTheSineFrequency) {
    const auto p = periodogram(sine(1000, 0.05)); // 50 cycles in 1000 samples
    ASSERT_EQ(p.size(), 500u);
    const auto peak = std::max_element(p.begin(), p.end()) - p.begin();
    EXPECT_EQ(peak + 1, 50); // index j - 1 holds frequency j / n
    double total = 0;
    for (double x : p) total += x;
    EXPECT_NEAR(total, 1.0, 1e-12);
}

TEST(SpectralDistance, IsZeroForTheSameAndTwoForDisjointSpectra) {
    const auto a = periodogram(sine(1000, 0.05)), b = periodogram(sine(1000, 0.2));
    EXPECT_EQ(spectral_distance(a, a), 0.0);
    EXPECT_NEAR(spectral_distance(a, b), 2.0, 1e-6);
}

TEST(WelchSpectrum, PeaksAtTheSineFrequencyAndSumsToOne) {
    const std::size_t segment = welch_segment(4096);
    EXPECT_EQ(segment, 256u); // the largest power of two <= 4096 / 16
    const auto p = welch_spectrum(sine(4096, 0.125), segment); // 32 cycles a segment
    ASSERT_EQ(p.size(), 128u);
    EXPECT_EQ(std::max_element(p.begin(), p.end()) - p.begin() + 1, 32);
    double total = 0;
    for (double x : p) total += x;
    EXPECT_NEAR(total, 1.0, 1e-12);
    EXPECT_EQ(welch_segment(20), 20u);
    EXPECT_EQ(welch_segment(100), 16u);
}

TEST(WelchSpectrum, TwoStretchesOfOneProcessAreCloseWhereRawPeriodogramsAreNot) {
    // Raw periodogram ordinates scatter as χ²₂ whatever n: two white-noise series sit about 1
    // apart in L1. Averaging ~30 segments brings that near 1.13 / √30 ≈ 0.2.
    const auto a = white_noise(8192, 1), b = white_noise(8192, 2);
    EXPECT_GT(spectral_distance(periodogram(a), periodogram(b)), 0.8);
    const std::size_t segment = welch_segment(a.size());
    EXPECT_LT(spectral_distance(welch_spectrum(a, segment), welch_spectrum(b, segment)), 0.3);
    // ... while different processes stay apart: white noise against an AR(1) with φ = 0.9.
    EXPECT_GT(
        spectral_distance(welch_spectrum(a, segment), welch_spectrum(ar1(8192, 0.9, 3), segment)),
        0.8);
}

TEST(Quantiles, InterpolateOrderStatistics) {
    const auto q = quantiles({4, 1, 3, 2}, 4); // Hazen positions: exactly the order statistics
    EXPECT_EQ(q, (std::vector<double>{1, 2, 3, 4}));
}

TEST(CompareSeries, SameSeriesGivesZeroDistances) {
    const auto v = ar1(5000, 0.5, 4);
    for (double d : metric_values(compare_series(v, v, 48))) EXPECT_EQ(d, 0.0);
}

TEST(CompareSeries, StandardisedKsIgnoresScaleAndShift) {
    const auto v = white_noise(2000, 5);
    std::vector<double> w(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) w[i] = 10 + 3 * v[i];
    const fidelity_metrics m = compare_series(v, w, 10);
    EXPECT_GT(m.ks, 0.3);
    EXPECT_LE(m.ks_standardised, 2.0 / 2000); // rounding may swap neighbours, no more
    EXPECT_NEAR(m.mean_diff, 10.0, 0.3);
}

TEST(AcfLags, ADayOfLagsWhenTheCadenceAllows) {
    EXPECT_EQ(acf_lags(5 * 60'000, 4000), 288u); // 5-minute cadence, two weeks
    EXPECT_EQ(acf_lags(ms_per_hour, 1600), 48u); // a day is 24 hourly lags: keep 48
    EXPECT_EQ(acf_lags(1000, 100), 25u);         // short: n / 4
}

} // namespace
} // namespace synthfeed
