#include "elbo/run/run_directory.h"

#include "elbo/diag/regression.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/core/device.h"
#include "elbo/data/load.h"
#include "elbo/model/factory.h"
#include "elbo/run/memory_estimate.h"
#include "elbo/report/image_grid.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <sstream>

namespace elbo::run {

LoadedRun load_run(const std::string& dir) {
  const std::string path = checkpoint_path(dir);
  struct stat st {};
  ELBO_CHECK(::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode), "run directory '", dir, "' does not exist");
  ELBO_CHECK(::stat(path.c_str(), &st) == 0, "run directory '", dir, "' has no checkpoint.pt (train it with: elbo train --out ", dir, ")");
  LoadedRun run;
  run.dir = dir;
  run.info = train::read_checkpoint_info(path);
  run.config = Config::from_toml(run.info.config_toml, path + " (stored config)");
  // A run directory may come from anyone: its recorded data shape must be one a model can have,
  // and the model it describes must fit before it is built.
  const ImageShape& image = run.info.image;
  ELBO_CHECK(run.info.features > 0 && run.info.features <= (int64_t{1} << 40), "checkpoint '", path,
             "' records ", run.info.features, " features per example; expected a positive number");
  auto side = [](int64_t v) { return v >= 0 && v <= (int64_t{1} << 20); };  // no overflow in features()
  ELBO_CHECK(side(image.channels) && side(image.height) && side(image.width) &&
                 (!image.is_image() || image.features() == run.info.features),
             "checkpoint '", path, "' records image shape ", image.str(), " for ", run.info.features,
             " features per example; they must agree");
  if (run.config.get_bool("train.memory_check"))
    check_memory(estimate_model_memory(run.config, data::Schema::of_features(run.info.features, image)),
                 available_memory(), "loading '" + path + "'");
  set_threads(run.config.get_int("train.threads"), model::uses_convolutions(run.config));
  run.model = model::make_model(run.config, run.info.features, image);
  run.info = train::load_checkpoint(path, *run.model, nullptr);  // the step of these weights, also if a running
                                                                  // elbo train renamed a newer checkpoint into place
  run.model->eval();
  return run;
}

const std::string& LoadedRun::family() const { return config.get_string("model.type"); }
const std::string& LoadedRun::data_format() const { return config.get_string("data.format"); }
int64_t LoadedRun::importance_samples() const { return config.get_int("eval.k"); }
int64_t LoadedRun::weight_draws() const { return config.get_int("eval.draws"); }
uint64_t LoadedRun::seed() const { return static_cast<uint64_t>(config.get_int("train.seed")); }

data::Standardization training_standardization(const LoadedRun& run) {
  return run.config.get_bool("data.standardize") ? data::load_data(run.config).standardization
                                                 : data::Standardization();
}

void ensure_writable_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  ELBO_CHECK(!ec, "cannot create output directory '", dir, "': ", ec.message());
  ELBO_CHECK(::access(dir.c_str(), W_OK) == 0, "output directory '", dir, "' is not writable: ", std::strerror(errno));
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

torch::Tensor original_units(const torch::Tensor& x, const data::Standardization& s) {
  if (!s.mean.defined()) return x.to(torch::kDouble);
  return x.to(torch::kDouble) * s.std.to(torch::kDouble) + s.mean.to(torch::kDouble);
}

void to_original_units(diag::RegressionPrediction& p, const data::Standardization& s) {
  if (!s.mean.defined()) return;
  p.mean = original_units(p.mean, s);
  p.sd = p.sd * s.std.to(torch::kDouble);
  p.quantiles = original_units(p.quantiles, s);
  if (p.log_density.defined()) p.log_density = p.log_density - s.std.to(torch::kDouble).log().sum();
}

void write_examples(const std::string& path, const torch::Tensor& x, const ImageShape& image, int64_t columns) {
  const bool csv = ends_with(path, ".csv"), png = ends_with(path, ".png");
  ELBO_CHECK(csv || png, "output file '", path, "' must end in .png or .csv");
  ELBO_CHECK(csv || image.is_image(), "'", path, "': this model's data are not images; write .csv instead");
  if (png) return report::write_image_grid(path, x, image, columns);
  torch::Tensor c = x.to(torch::kDouble).reshape({x.size(0), -1}).contiguous();
  std::ostringstream out;
  out << std::setprecision(8);
  for (int64_t j = 0; j < c.size(1); ++j) out << (j ? "," : "") << "x" << j + 1;
  out << "\n";
  auto a = c.accessor<double, 2>();
  for (int64_t i = 0; i < c.size(0); ++i) {
    for (int64_t j = 0; j < c.size(1); ++j) out << (j ? "," : "") << a[i][j];
    out << "\n";
  }
  write_file_atomic(path, out.str());
}

}  // namespace elbo::run
