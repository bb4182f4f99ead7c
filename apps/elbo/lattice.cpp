// elbo lattice CONFIG --out DIR: the built-in lattice configurations written as IDX and CSV files.
#include "commands.h"
#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/core/config.h"
#include "elbo/data/idx.h"
#include "elbo/data/lattice.h"

#include <cstdio>
#include <filesystem>
#include <iostream>

namespace elbo::cli {
namespace {

/// One configuration per row, L^2 values, with a header x0 .. x{L^2 - 1}: what data.lattice_model = "file" reads.
void write_lattice_csv(const std::string& path, const torch::Tensor& x) {
  const torch::Tensor rows = x.to(torch::kCPU, torch::kDouble).contiguous();
  const int64_t n = rows.size(0), d = rows.size(1);
  const double* v = rows.data_ptr<double>();
  write_file_atomic(path, [&](const ByteSink& sink) {
    std::string line;
    for (int64_t j = 0; j < d; ++j) line += (j ? ",x" : "x") + std::to_string(j);
    line += "\n";
    sink(line.data(), line.size());
    char cell[32];
    for (int64_t i = 0; i < n; ++i) {
      line.clear();
      for (int64_t j = 0; j < d; ++j) {
        std::snprintf(cell, sizeof cell, j ? ",%.9g" : "%.9g", v[i * d + j]);  // float32 round-trips in 9 digits
        line += cell;
      }
      line += "\n";
      sink(line.data(), line.size());
    }
  });
}

}  // namespace

Action add_lattice(CLI::App& app) {
  struct Args {
    std::string config_path, out;
    std::vector<std::string> sets;
  };
  auto args = std::make_shared<Args>();
  app.add_option("config", args->config_path, "TOML config with data.format = \"lattice\" and data.lattice_*")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--set", args->sets, "override a key (repeatable)");
  app.add_option("--out", args->out, "directory of train.idx, test.idx, train.csv and test.csv")->required();
  return [args]() -> int {
    Config config = Config::from_file(args->config_path);
    for (const auto& s : args->sets) config.set(s);
    std::filesystem::create_directories(args->out);
    for (const bool test : {false, true}) {
      const data::Dataset d = data::lattice_split(config, test);
      const int64_t L = d.image.height;
      const std::string stem = args->out + (test ? "/test" : "/train");
      data::write_idx(stem + ".idx", d.x.view({d.size(), L, L}).contiguous());
      write_lattice_csv(stem + ".csv", d.x);
      std::cout << "wrote " << stem << ".idx and " << stem << ".csv: " << d.size() << " configurations of " << L
                << " x " << L << " (" << d.name << ")\n";
    }
    std::cout << "read them back with data.lattice_model = \"file\", data.train and data.test\n";
    return 0;
  };
}

}  // namespace elbo::cli
