// elbo sample | reconstruct | encode RUN ...
#include "commands.h"
#include "elbo/run/run_directory.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/core/rng.h"
#include "elbo/data/fasta.h"
#include "elbo/data/load.h"
#include "elbo/data/multimodal.h"
#include "elbo/run/crystals.h"
#include "elbo/run/memory_estimate.h"

#include <iomanip>
#include <iostream>
#include <sstream>

namespace elbo::cli {
namespace {

bool sequences(const LoadedRun& run) { return run.data_format() == "fasta"; }
bool crystals(const LoadedRun& run) { return run.family() == "crystal"; }

std::string default_out(const LoadedRun& run, const std::string& stem) {
  return run.dir + "/" + stem + (sequences(run) ? ".fasta" : run.info.image.is_image() ? ".png" : ".csv");
}

data::Dataset first(const data::Dataset& d, int64_t n) {
  return n > 0 && n < d.size() ? d.subset(torch::arange(n, torch::kLong)) : d;
}

}  // namespace

Action add_sample(CLI::App& app) {
  struct Args {
    std::string run, out;
    int64_t n = 64, seed = 1, columns = 8, condition = -1;
    bool poscar = false, most_probable = false, valid_only = false;
  };
  auto args = std::make_shared<Args>();
  app.add_option("run", args->run, "run directory")->required();
  app.add_option("--n", args->n, "number of samples")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--out", args->out, "output .png (image grid) or .csv (default: RUN/samples.png or .csv; crystals: "
                 "a directory, default RUN/samples, of sample1.cif ... and samples.csv)");
  app.add_flag("--poscar", args->poscar, "crystals: also write each sample as a VASP POSCAR file");
  app.add_flag("--most-probable", args->most_probable, "crystals: decode each z ~ p(z) to its most probable count and "
               "elements and the locations of the lattice and coordinates, instead of one draw");
  app.add_flag("--valid-only", args->valid_only, "crystals: keep only structurally valid draws (every distance > "
               "0.5 A, volume > 0.1 A^3) by rejection, i.e. sample p(crystal | valid), and print the acceptance rate "
               "(the unconditioned validity)");
  app.add_option("--seed", args->seed, "seed of the prior draws")->capture_default_str();
  app.add_option("--columns", args->columns, "images per row")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--condition", args->condition,
                 "class label every sample is drawn for (conditional models; default: labels cycle through the classes)")
      ->check(CLI::NonNegativeNumber);
  return [args]() -> int {
    LoadedRun run = load_run(args->run);
    ELBO_CHECK(!args->valid_only || crystals(run), "elbo sample --valid-only: only crystal runs have a validity check");
    ELBO_CHECK(args->condition < 0 || run.model->classes() > 0, "elbo sample --condition: the model of '", run.dir,
               "' is not conditional (train it with model.conditional = true or model.type = \"m2\")");
    torch::NoGradGuard no_grad;
    if (crystals(run)) {  // structures: CIF files and a table of their checks
      const std::string dir = args->out.empty() ? run.dir + "/samples" : args->out;
      std::vector<data::Structure> structures;
      std::string rejection;
      if (args->valid_only) {
        ValidCrystalSamples v = sample_valid_crystals(*run.model, run.config, args->n, static_cast<uint64_t>(args->seed),
                                                      args->most_probable);
        structures = std::move(v.structures);
        std::ostringstream text;
        text << std::fixed << std::setprecision(1) << "conditioned on validity (--valid-only): accepted " << args->n
             << " of " << v.drawn << " draws, acceptance rate "
             << 100.0 * static_cast<double>(args->n) / static_cast<double>(v.drawn) << "% (the unconditioned validity)\n";
        rejection = text.str();
      } else {
        structures =
            sample_crystals(*run.model, run.config, args->n, static_cast<uint64_t>(args->seed), args->most_probable);
      }
      const auto checks = write_crystals(structures, dir, "samples.csv", args->poscar);
      std::cout << "wrote " << args->n << " structures to " << dir << " (CIF" << (args->poscar ? ", POSCAR" : "")
                << ") and their table to " << dir << "/samples.csv\n" << rejection << crystal_summary(checks) << "\n";
      return 0;
    }
    seed_stream(static_cast<uint64_t>(args->seed), RngStream::evaluation);
    torch::Tensor z = run.model->sample_prior(args->n);
    torch::Tensor y = args->condition >= 0 ? torch::full({args->n}, args->condition, z.options().dtype(torch::kLong))
                                           : torch::Tensor();
    const dist::DistributionPtr p = run.model->likelihood(z, y);
    const std::string out = args->out.empty() ? default_out(run, "samples") : args->out;
    if (sequences(run))  // draws of the bases (the mean would be their probabilities)
      write_file_atomic(out, data::format_fasta(data::fasta_records(p->sample(), "sample")));
    else
      write_examples(out, p->mean(), run.info.image, args->columns);
    std::cout << "wrote " << args->n << " samples to " << out << "\n";
    return 0;
  };
}

Action add_reconstruct(CLI::App& app) {
  struct Args {
    std::string run, out;
    int64_t n = 16;
  };
  auto args = std::make_shared<Args>();
  app.add_option("run", args->run, "run directory")->required();
  app.add_option("--n", args->n, "test examples to reconstruct")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--out", args->out, "output .png (inputs above reconstructions) or .csv (reconstructions); crystals: a "
                 "directory (default RUN/reconstructions) of CIF files and reconstructions.csv");
  return [args]() -> int {
    LoadedRun run = load_run(args->run);
    torch::NoGradGuard no_grad;
    data::Dataset test = first(data::load_test_data(run.config), args->n);
    if (crystals(run)) {  // decoded structures as CIF files, with how close they come
      const CrystalReconstruction r = reconstruct_crystals(*run.model, run.config, test);
      const std::string dir = args->out.empty() ? run.dir + "/reconstructions" : args->out;
      const auto checks = write_crystals(r.structures, dir, "reconstructions.csv", false);
      std::cout << "wrote " << r.examples << " reconstructions of test structures to " << dir << "\n"
                << "atom count right: " << r.count_matches << " / " << r.examples << "; count and every element right: "
                << r.species_matches << " / " << r.examples << "\n"
                << "coordinate error (those): " << r.coordinate_error << " A per atom (minimum image); lattice lengths "
                << r.length_error << " relative, angles " << r.angle_error << " degrees\n"
                << "positions, species and order aside (Chamfer distance): " << r.chamfer_error << " A\n"
                << crystal_summary(checks) << "\n";
      return 0;
    }
    data::Batch batch = test.slice(0, test.size());
    const dist::DistributionPtr p = run.model->likelihood(run.model->posterior(batch)->mean(), batch.y);
    const std::string out = args->out.empty() ? default_out(run, "reconstructions") : args->out;
    if (sequences(run)) {  // each input window, then its most probable reconstruction
      const torch::Tensor rec = p->mean().argmax(-1);
      std::vector<data::FastaRecord> records;
      for (int64_t i = 0; i < test.size(); ++i)
        for (const auto& [name, x] : {std::pair{"input", batch.x[i]}, std::pair{"reconstruction", rec[i]}})
          records.push_back({name + std::to_string(i + 1), data::bases(x)});
      write_file_atomic(out, data::format_fasta(records));
      std::cout << "wrote " << test.size() << " windows and their reconstructions to " << out << "\n";
      return 0;
    }
    const torch::Tensor rec = p->mean();
    const bool png = out.size() >= 4 && out.substr(out.size() - 4) == ".png";
    write_examples(out, png ? torch::cat({batch.x, rec}) : rec, run.info.image, test.size());
    std::cout << "wrote " << test.size() << " reconstructions to " << out << "\n";
    return 0;
  };
}

Action add_encode(CLI::App& app) {
  struct Args {
    std::string run, out, split = "test";
    int64_t n = 0;
    bool means_only = false;
  };
  auto args = std::make_shared<Args>();
  app.add_option("run", args->run, "run directory")->required();
  app.add_option("--n", args->n, "examples to encode (0 = all)")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--split", args->split, "test, or train: the training and then the validation examples (features "
                 "for a model stacked on this one, e.g. M2 on an M1's codes)")
      ->capture_default_str()->check(CLI::IsMember({"test", "train"}));
  app.add_flag("--means-only", args->means_only, "write the posterior means alone (and the label)");
  app.add_option("--out", args->out, "output CSV (default: RUN/latents.csv)");
  return [args]() -> int {
    LoadedRun run = load_run(args->run);
    torch::NoGradGuard no_grad;
    std::vector<data::Dataset> parts;
    if (args->split == "train") {
      data::Splits splits = data::load_data(run.config, false);
      parts = {std::move(splits.train), std::move(splits.validation)};
    } else {
      parts = {data::load_test_data(run.config)};
    }
    const int64_t d = run.model->latent_dim();
    std::ostringstream csv;
    csv << std::setprecision(8);
    const int64_t columns = args->means_only ? d : 2 * d;
    for (int64_t j = 0; j < columns; ++j) csv << (j ? "," : "") << (j < d ? "mu" : "sigma") << j % d + 1;
    csv << (parts[0].y.defined() ? ",label\n" : "\n");
    int64_t written = 0;
    for (const data::Dataset& part : parts) {
      const int64_t n = args->n > 0 ? std::min(part.size(), args->n - written) : part.size();
      for (int64_t begin = 0; begin < n; begin += 1000) {
        data::Batch batch = part.slice(begin, std::min(n, begin + 1000));
        const dist::DistributionPtr q = run.model->posterior(batch);  // location and log-scale (Normal)
        torch::Tensor rows = torch::cat({q->mean(), q->parameters().at(1).exp()}, 1).to(torch::kDouble).contiguous();
        auto a = rows.accessor<double, 2>();
        for (int64_t i = 0; i < rows.size(0); ++i) {
          for (int64_t j = 0; j < columns; ++j) csv << (j ? "," : "") << a[i][j];
          if (batch.y.defined()) csv << "," << batch.y[i].item<int64_t>();
          csv << "\n";
        }
      }
      written += n;
    }
    const std::string out = args->out.empty() ? run.dir + "/latents.csv" : args->out;
    write_file_atomic(out, csv.str());
    std::cout << "wrote posterior means and scales of " << written << " " << args->split << " examples to " << out << "\n";
    return 0;
  };
}

Action add_config(CLI::App& app) {
  struct Args {
    std::string config_path;
    std::vector<std::string> sets;
    bool estimate = false, keys = false;
  };
  auto args = std::make_shared<Args>();
  app.add_option("config", args->config_path, "show this config resolved against the defaults")->check(CLI::ExistingFile);
  app.add_flag("--keys", args->keys, "print only the config keys, one per line (for scripts and shell completion)");
  app.add_option("--set", args->sets, "override a key (repeatable)");
  app.add_flag("--estimate", args->estimate,
               "read the data and print the memory training would need (parameters, gradients, Adam, activations, "
               "data) beside the memory available; nothing else is allocated");
  return [args]() -> int {
    if (args->keys) {
      for (const ConfigKey& key : config_schema()) std::cout << key.name << "\n";
      return 0;
    }
    if (args->estimate) {
      const int64_t baseline = resident_bytes();
      Config config = args->config_path.empty() ? Config() : Config::from_file(args->config_path);
      for (const auto& s : args->sets) config.set(s);
      const data::Splits data = data::load_data(config, /*read_test_file=*/false);
      Config stored = config;
      data::record_modalities(stored, data.train.modalities);
      const run::MemoryEstimate e =
          run::estimate_training_memory(stored, data::Schema::of(data.train), run::data_footprint(data, baseline), baseline);
      const AvailableMemory available = available_memory();
      std::cout << "memory estimate of training (peak resident set):\n" << e.table() << "available: "
                << (available.bytes < 0 ? std::string("unknown") : format_bytes(available.bytes) + " (" + available.source + ")")
                << "\n";
      if (available.bytes >= 0)
        std::cout << (e.increment() <= available.bytes ? "fits: the run needs " : "does not fit: elbo train refuses it; the run needs ")
                  << format_bytes(e.increment()) << " beyond the baseline\n";
      return 0;
    }
    if (args->config_path.empty() && args->sets.empty()) {
      std::cout << "Config keys (TOML sections [data] [model] [objective] [train] [eval] [report]):\n"
                << describe_config_schema();
      return 0;
    }
    Config config = args->config_path.empty() ? Config() : Config::from_file(args->config_path);
    for (const auto& s : args->sets) config.set(s);
    std::cout << config.to_toml();
    return 0;
  };
}

}  // namespace elbo::cli
