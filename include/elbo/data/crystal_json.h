#pragma once
// Crystal structures in the JSON of pymatgen and ASE, and one entry point for every crystal file.
#include "elbo/core/json_fwd.h"
#include "elbo/data/cif.h"
#include "elbo/data/crystal.h"

#include <string>
#include <vector>

namespace elbo::data {

/// Structures in pymatgen's JSON: one Structure.as_dict() ({"lattice": {"matrix": ...}, "sites":
/// [{"species": [{"element": "Na", "occu": 1}], "abc": [...]}]}), a list of them, or a list of
/// entries {"snl": <StructureNL dict>, "tags": {"aflow": ...}} as pymatgen's
/// analysis/aflow_prototypes.json (named by their AFLOW label). Refuses, naming the file, the entry and
/// the site: a site with several species or an occupancy other than 1, an unknown element, a
/// lattice that is not 3 x 3 finite numbers or spans no volume.
std::vector<Structure> pymatgen_structures(const Json& json, const std::string& name);
std::vector<Structure> read_pymatgen_json(const std::string& path);

/// Structures in ASE's JSON database format (ase.db, ase/collections/*.json: {"1": {"cell",
/// "numbers", "positions" (Cartesian, Angstrom), "pbc"}, ..., "ids": [1, ...]}; arrays as nested
/// lists or {"__ndarray__": [shape, dtype, flat values]}, a cell also as {"array": ...}), in the
/// order of "ids"; named by key_value_pairs.name, else "id <key>". Refuses, naming the file and the
/// entry: a row not periodic in all three directions, an atomic number outside 1..98, a cell that
/// spans no volume.
std::vector<Structure> ase_structures(const Json& json, const std::string& name);
std::vector<Structure> read_ase_json(const std::string& path);

/// The structures of any of these files: CIF (.cif, also when the extension is missing and the
/// text is not JSON), pymatgen JSON, ASE JSON (told apart by their keys). Notes (wrapped CIF
/// coordinates) are appended to `notes` when given. Every structure is checked against
/// options.max_atoms (0: no limit).
std::vector<Structure> read_structures(const std::string& path, const CifOptions& options = {},
                                       std::vector<std::string>* notes = nullptr);

}  // namespace elbo::data
