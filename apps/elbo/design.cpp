// elbo design RUN --property NAME (--target VALUE | --target max) [--n] [--steps] [--lr] [--start] [--seed] [--out]
#include "commands.h"
#include "elbo/run/design.h"

#include "elbo/core/atomic_file.h"
#include "elbo/core/check.h"
#include "elbo/data/crystal_rows.h"
#include "elbo/data/fasta.h"
#include "elbo/report/format.h"
#include "elbo/run/crystals.h"

#include <cctype>
#include <iostream>

namespace elbo::cli {
namespace {

/// "mean ± sd" of a summary entry, "-" where it has none.
std::string cell(const Json& entry, int decimals) {
  if (!entry.contains("mean") || !entry["mean"].is_number()) return "-";
  return report::fixed(entry["mean"].get<double>(), decimals) + " ± " + report::fixed(entry["sd"].get<double>(), decimals);
}

/// `text` padded with spaces to `width` characters (UTF-8: '±' is one character, two bytes).
std::string pad(const std::string& text, size_t width) {
  size_t chars = 0;
  for (unsigned char ch : text) chars += (ch & 0xC0) != 0x80;
  return text + std::string(chars < width ? width - chars : 0, ' ');
}

/// A property name as a directory name: letters, digits, '.', '_' and '-' kept, anything else '-'.
std::string file_stem(std::string name) {
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '_' && ch != '-') ch = '-';
  return name;
}

}  // namespace

Action add_design(CLI::App& app) {
  struct Args {
    std::string run, out, target;
    DesignRequest request;
  };
  auto args = std::make_shared<Args>();
  DesignRequest& r = args->request;
  app.add_option("run", args->run, "run directory")->required();
  app.add_option("--property", r.property,
                 "DNA runs: gc | motif:ACGT... (exact oracles); crystal runs: volume_per_atom | number_density "
                 "| mass_density (exact); other runs: a column of data.target_columns")
      ->required();
  app.add_option("--target", args->target, "the property value wanted, or max to maximize the prediction")->required();
  app.add_option("--n", r.n, "designs")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--steps", r.steps, "Adam steps on the codes")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--lr", r.lr, "Adam's learning rate on the codes")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--start", r.start, "start codes: prior draws, or posterior means of random training examples")
      ->capture_default_str()
      ->check(CLI::IsMember({"prior", "encoded"}));
  app.add_option("--fit", r.fit,
                 "the head's pairs: encoded (posterior means of training examples, their property) or decoded (those "
                 "and as many prior draws, decoded as the designs are and measured exactly; crystal and DNA runs); "
                 "auto: decoded for crystal runs")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "encoded", "decoded"}));
  app.add_option("--dims", r.dims,
                 "the dimensions the search moves: all, or the active units (Var_x E_q[z_i | x] > 0.01); auto: active "
                 "for crystal runs")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "all", "active"}));
  app.add_option("--seed", r.seed, "seed of every draw")->capture_default_str();
  app.add_option("--out", args->out, "output directory (default: RUN/design-PROPERTY)");
  return [args]() -> int {
    DesignRequest& r = args->request;
    if (args->target == "max") {
      r.maximize = true;
    } else {
      size_t used = 0;
      try {
        r.target = std::stod(args->target, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      ELBO_CHECK(used == args->target.size() && std::isfinite(r.target), "elbo design --target: expected a number or max (got '",
                 args->target, "')");
    }
    const LoadedRun run = load_run(args->run);
    const std::string out = args->out.empty() ? run.dir + "/design-" + file_stem(r.property) : args->out;
    ensure_writable_dir(out);
    const DesignResult result = design_run(run, r);
    write_file_atomic(out + "/design.json", result.json.dump(2) + "\n");
    write_file_atomic(out + "/trajectory.csv", trajectory_csv(result));
    if (result.sequences)
      write_file_atomic(out + "/designs.fasta", data::format_fasta(data::fasta_records(result.designs.x, "design")));
    std::string crystal_validity;
    if (result.crystals)  // the designs as CIF files and their checks
      crystal_validity = crystal_summary(write_crystals(data::row_structures(run.config, result.designs.x, "design"),
                                                        out + "/designs", "designs.csv", false));

    const Json& head = result.json["head"];
    std::cout << "property " << r.property << ", " << (r.maximize ? "maximized" : "target " + args->target) << "; head "
              << "p(" << (result.log_property ? "log c" : "c") << " | z): held-out R^2 "
              << report::fixed(head["r2_held_out"].get<double>(), 3) << ", noise sd "
              << report::fixed(head["noise_sd"].get<double>(), 4) << " (" << head["fitted"]
              << (result.decoded_fit ? " decoded codes" : " encoded training examples") << " fitted, "
              << head["held_out"] << " held out)\n";
    std::cout << pad("", 19) << pad(result.exact ? "property (exact)" : "property", 21) << pad("predicted f(z)", 21)
              << pad("bits/base (ELBO)", 21) << "novelty\n";
    for (const char* group : {"reference", "start", "designs"}) {
      const Json& s = result.json["summary"][group];
      const char* label = std::string(group) == "reference" ? "training sample" : std::string(group) == "start"
                                                                                    ? "start (decoded)"
                                                                                    : "designs";
      std::cout << pad(label, 19) << pad(cell(s["property"], 3), 21) << pad(cell(s["predicted"], 3), 21)
                << pad(cell(s["bits_per_base"], 3), 21) << cell(s["novelty"], 3) << "\n";
    }
    for (const std::string& note : result.notes) std::cout << "note: " << note << "\n";
    if (result.crystals) std::cout << "designs: " << crystal_validity << "\n";
    std::cout << "wrote " << out << "/design.json, trajectory.csv" << (result.sequences ? ", designs.fasta" : "")
              << (result.crystals ? ", designs/ (CIF files, designs.csv)" : "") << "\n";
    return 0;
  };
}

}  // namespace elbo::cli
