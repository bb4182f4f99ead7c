#pragma once
#include "elbo/core/config.h"
#include "elbo/data/dataset.h"
#include "elbo/data/modality.h"

#include <vector>

namespace elbo::data {

/// The `[[data.modalities]]` of a config as a layout (a run's stored config holds the widths,
/// categories and image shapes its data resolved; see record_modalities). Empty without tables.
std::vector<Modality> modalities_of(const Config& config);

/// Writes what the data resolved (width, categories, image shape) into the config's tables, so
/// that a stored run config rebuilds the same model without reading the data.
void record_modalities(Config& config, const std::vector<Modality>& modalities);

/// Reads every modality's file (its training rows, or with `test` its test rows) and puts them
/// side by side in one data set: x [N, sum of widths], mask 0 where a cell is missing or the
/// modality absent (a presence column of 0, or a row whose cells are all empty), and the layout
/// in Dataset::modalities. Files must have the same number of rows; rows without any modality,
/// values a likelihood cannot score (negative counts, labels past the categories, Bernoulli values
/// outside [0, 1]) and repeated names are refused naming the modality, file and row.
Dataset read_modalities(const Config& config, bool test);

/// Standardizes the columns of modalities with `standardize` (statistics of the observed training
/// entries; other columns get mean 0 and std 1) and returns the statistics for the other splits.
Standardization standardize_modalities(Dataset& train);

/// `data` seen through some of its modalities: the `observed` modalities keep their mask, the
/// observed entries of the `hidden` ones become Dataset::hidden (mask 0, truth kept for scoring),
/// and every other modality is masked out.
Dataset select_modalities(const Dataset& data, const std::vector<size_t>& observed, const std::vector<size_t>& hidden);

/// Binarizes the columns of modalities with `binarize` once, seeded.
void binarize_modalities(Dataset& data, uint64_t seed);

}  // namespace elbo::data
