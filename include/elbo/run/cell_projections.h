#pragma once
// A picture of a few crystals: each unit cell projected onto its ab plane, for the report.
#include "elbo/data/crystal.h"
#include "elbo/report/html.h"

#include <cstdint>
#include <string>
#include <vector>

namespace elbo::run {

/// Layout of cell_projections: `columns` panels of `panel` x `panel` px per row, each with a caption
/// band of kCellCaption px under it. The SVG is columns' * panel wide and rows * (panel + kCellCaption)
/// high, columns' = min(columns, structures), rows = ceil(structures / columns').
constexpr int kCellPanel = 220;
constexpr int kCellCaption = 34;

/// The unit cells of `structures` projected along the normal of each cell's ab plane (x along a,
/// y in the ab plane perpendicular to it; Cartesian r = sum_k f_k a_k, then (r . x, r . y)): the ab
/// face solid, the face at c dashed and the four c edges dotted, scaled to fit the panel (both axes
/// alike, so the projection is not distorted). Atoms are discs at their projected positions, drawn
/// from the lowest to the highest along the normal, sized by the element radius (data/elements.h)
/// and coloured by element (a palette of 12 distinguishable colours given to the cell's elements in
/// order of atomic number, so one panel's few elements differ; the same element may differ between
/// panels). Colour is not the only cue: each disc carries its element symbol and a tooltip (<title>)
/// with its fractional coordinates, and each panel's caption names the structure and its formula
/// (cut with "..." past the panel's width) and lists its elements beside their colours.
/// A report chart: the SVG (role="img", a <title> saying what it shows) and as its numbers one row
/// per atom drawn (structure, element, projected x and y in A, height along the normal in A).
/// Throws std::invalid_argument for no structures, columns < 1 or a cell that spans no volume.
report::Chart cell_projections(const std::vector<data::Structure>& structures, int64_t columns);

}  // namespace elbo::run
