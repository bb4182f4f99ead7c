#pragma once
#include "elbo/data/dataset.h"

#include <torch/types.h>

#include <string>
#include <vector>

namespace elbo::data {

/// A dSprites-like data set (Matthey et al. 2017, "dSprites: disentanglement
/// testing sprites dataset"), rendered here: 32x32 grey images in [0, 1] of one
/// white shape on black, made by five independent factors on a grid
///   shape        3   square, ellipse, heart
///   scale        6   half-size 3 to 6 pixels
///   orientation 16   2 pi j / 16 (the square repeats after pi / 2, the ellipse
///                    after pi, as in dSprites: orientation is partly unidentifiable)
///   pos_x, pos_y 16  centre from 8 to 24 pixels (the border pixels stay black)
/// Each shape is a signed distance function d (in pixels, < 0 inside); a pixel's
/// intensity is its approximate coverage clamp(0.5 - d, 0, 1) (anti-aliased edges).
inline const std::vector<std::string> kDspritesFactorNames = {"shape", "scale", "orientation", "pos_x", "pos_y"};
inline const std::vector<int64_t> kDspritesFactorSizes = {3, 6, 16, 16, 16};
constexpr int64_t kDspritesSide = 32;
constexpr int64_t kDspritesCells = 3 * 6 * 16 * 16 * 16;  ///< 73728 factor combinations

/// Renders images for factor values [N, 5] (int64, columns as kDspritesFactorNames):
/// [N, 32*32] float32 in [0, 1]. Throws std::invalid_argument naming a value out of range.
torch::Tensor render_dsprites(const torch::Tensor& factors);

/// Examples [begin, end) of a seeded random order of all 73728 grid cells
/// (distinct factor combinations, so two ranges that do not overlap share no
/// image): images, factors, names and sizes. Deterministic in `seed`.
Dataset make_dsprites(int64_t begin, int64_t end, uint64_t seed);

}  // namespace elbo::data
