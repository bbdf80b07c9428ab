#pragma once
/// The statistics `synthfeed compare` judges a synthetic series by, each on plain vectors of
/// samples in time order (a regular cadence assumed: index k is k cadences in). None throws;
/// inputs shorter than stated give 0 or empty results. FFTW computes the transforms,
/// Boost.Math the moments.

#include <cstddef>
#include <vector>

namespace synthfeed {

/// Two-sample Kolmogorov-Smirnov statistic D = sup_x |F_a(x) - F_b(x)|, the largest gap
/// between the empirical CDFs, in [0, 1] (0: same sample; 1: disjoint ranges). Computed on
/// sorted copies by a merge walk, ties stepped together (Hollander & Wolfe, Nonparametric
/// Statistical Methods, 3rd ed., 5.4). 0 when either is empty.
double ks_distance(std::vector<double> a, std::vector<double> b);

/// `v` standardised robustly: minus its median, over its interquartile range / 1.349 (the
/// standard deviation for normal data); by the sample standard deviation when the IQR is 0,
/// centred only when constant. A standard deviation is set by a series' few largest bursts,
/// so mean/sd standardisation of heavy-tailed or discrete series (counts) moves whole atoms
/// and turns a small difference of spread into a large KS distance.
std::vector<double> standardised(const std::vector<double>& v);

/// Sample mean and sample standard deviation (n - 1), via boost::math::statistics.
struct moments {
    double mean = 0;
    double stddev = 0;
};
moments sample_moments(const std::vector<double>& v);

/// Sample autocorrelation r_k for k = 0..max_lag (so max_lag + 1 values, r_0 = 1), the
/// Box-Jenkins estimator r_k = sum_{t<n-k} (x_t - m)(x_{t+k} - m) / sum_t (x_t - m)^2
/// (Box, Jenkins & Reinsel, Time Series Analysis, 4th ed., 2.1.5), through FFTW: the
/// inverse transform of |X|^2 with zero padding to at least 2n (Wiener-Khinchin). Lags past
/// n - 1 are 0; a constant series has r_k = 0 for k >= 1.
std::vector<double> autocorrelation(const std::vector<double>& v, std::size_t max_lag);

/// Periodogram I_j = |sum_t (x_t - m) e^{-2 pi i j t / n}|^2 at the Fourier frequencies
/// j / n cycles per sample, j = 1..floor(n/2) (index j - 1), normalised to unit sum (all 0
/// for a constant series), through FFTW's real-to-complex transform.
std::vector<double> periodogram(const std::vector<double>& v);

/// Welch's averaged periodogram (P. D. Welch, IEEE Trans. Audio Electroacoustics 15(2),
/// 1967): `v` cut into segments of `segment` samples overlapping by half, each demeaned,
/// Hann-windowed and transformed; their |X_j|^2 averaged, for j = 1..segment/2 (frequency
/// j / segment cycles per sample, index j - 1), normalised to unit sum. Averaging K segments
/// divides the raw periodogram's variance (each ordinate ~ its mean × χ²₂/2, whatever n) by
/// about K, so two stretches of one process give nearby spectra. Fewer than two segments:
/// the plain periodogram.
std::vector<double> welch_spectrum(const std::vector<double>& v, std::size_t segment);

/// The segment length spectral distances use for `n` samples: the largest power of two at
/// most n / 16 (about 30 half-overlapping segments), at least 16; n itself when n < 32.
std::size_t welch_segment(std::size_t n);

/// L1 distance sum_j |p_j - q_j| between two normalised spectra of equal length, in
/// [0, 2] (0: same spectral shape; 2: no frequency in common). Unequal lengths compare the
/// common prefix.
double spectral_distance(const std::vector<double>& p, const std::vector<double>& q);

/// Root mean square of a_k - b_k over lags 1..min(size) - 1 (lag 0, always 1, left out).
double acf_rmse(const std::vector<double>& a, const std::vector<double>& b);

/// Quantiles of `v` at probabilities `p`: Hyndman & Fan (1996) definition 7, linear between
/// order statistics (R's default). Empty for empty `v`.
std::vector<double> sample_quantiles_at(std::vector<double> v, const std::vector<double>& p);

/// The median of `v` (the mean of the middle two for an even count); 0 when empty.
double median(std::vector<double> v);

/// The `count` quantiles of `v` at probabilities (i + 0.5) / count (Hazen plotting positions),
/// for QQ plots: linear interpolation between order statistics. Empty when `v` is.
std::vector<double> quantiles(std::vector<double> v, std::size_t count);

} // namespace synthfeed
