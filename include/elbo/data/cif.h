#pragma once
// Crystallographic Information Files (CIF 1.1, Hall, Allen & Brown 1991): the subset that holds
// one crystal per data block, read; P1 CIF and VASP POSCAR text, written.
#include "elbo/data/crystal.h"

#include <cstdint>
#include <string>
#include <vector>

namespace elbo::data {

/// How CIF files are read.
struct CifOptions {
  int64_t max_atoms = 0;          ///< refuse a cell with more atoms after symmetry expansion (0: no limit)
  bool wrap_coordinates = true;   ///< wrap listed coordinates outside [0, 1) into the cell (with a note),
                                  ///< else refuse them
  double merge_tolerance = 0.01;  ///< Angstrom: symmetry images closer than this are one atom
};

/// The structures of a CIF file, one per data block that describes a crystal, and notes (wrapped
/// coordinates) for the caller to show.
struct CifData {
  std::vector<Structure> structures;
  std::vector<std::string> notes;
};

/// Reads the CIF at `path` (see parse_cif).
CifData read_cif(const std::string& path, const CifOptions& options = {});

/// Parses CIF text; `name` (the file) starts every message, "name:LINE: ...".
///
/// Syntax: data_ blocks, tags with values, loop_ tables, comments (#), values bare, quoted ('...'
/// or "...", closed by a quote followed by whitespace) or in ;-delimited text fields; tags are
/// case-insensitive and DDLm's '.' (_cell.length_a) reads as '_'. Numbers may carry a standard
/// uncertainty, 5.640(3).
///
/// A block describes a crystal when it has a _cell_length_* or _atom_site_fract_* tag; it then
/// needs: _cell_length_a/b/c and _cell_angle_alpha/beta/gamma (Angstrom, degrees; a cell of zero
/// volume is refused); _atom_site_fract_x/y/z; the species from _atom_site_type_symbol ("Fe3+"
/// reads as Fe), else _atom_site_label ("Fe1"); _atom_site_occupancy, when present, 1 (partly
/// occupied, disordered sites are refused). Symmetry operations from _symmetry_equiv_pos_as_xyz
/// or _space_group_symop_operation_xyz ("x, -y, z+1/2", "-x+y, 1/2+z", at most 192) are applied
/// to every listed atom; images within merge_tolerance of an atom already placed (minimum image)
/// are that atom, and one of another species there is refused. A block without operations is
/// read as P1, unless it names another space group (_symmetry_space_group_name_H-M,
/// _space_group_name_H-M_alt, _symmetry_Int_Tables_number, _space_group_IT_number): without a
/// table of space groups that would lose atoms, so it is refused.
///
/// Throws std::invalid_argument with the file, the line and the tag for every refusal: a missing
/// cell parameter or coordinate column, a value that is not a number, a degenerate cell, a
/// coordinate outside [0, 1) when !wrap_coordinates, more atoms than max_atoms, an unknown
/// element, a malformed symmetry operation, loops with a ragged last row, unterminated quotes
/// or text fields, tags outside a data block, no crystal in the file.
CifData parse_cif(const std::string& text, const std::string& name, const CifOptions& options = {});

/// The structure as a P1 CIF, as pymatgen's CifWriter writes it: data_<name or reduced
/// formula>, the six cell parameters and the volume (8 decimals), the one operation 'x, y, z',
/// and one _atom_site row per atom (type symbol, label Na0, Na1, ..., multiplicity 1, fractional
/// coordinates wrapped into [0, 1), occupancy 1).
std::string format_cif(const Structure& s);

/// The structure as a VASP 5 POSCAR: a comment line (name or formula), scale 1.0, the lattice
/// rows, species symbols and counts, "direct" and the fractional coordinates grouped by species
/// in order of first appearance.
std::string format_poscar(const Structure& s);

}  // namespace elbo::data
