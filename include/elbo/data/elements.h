#pragma once
// The chemical elements H..Cf (Z = 1..98): symbol, an atomic radius, electronegativity, atomic mass,
// common oxidation states.
// Generated from pymatgen's periodic_table.json by scripts/data/element_table.py.
#include <cstdint>
#include <string>
#include <vector>

namespace elbo::data {

/// Where an element's radius comes from (the first of these pymatgen knows).
enum class RadiusSource {
  slater,    ///< empirical atomic radius, J. C. Slater, J. Chem. Phys. 41, 3199 (1964)
  metallic,  ///< metallic radius (Cm, Bk, Cf)
  clementi,  ///< calculated atomic radius, E. Clementi et al., J. Chem. Phys. 47, 1300 (1967) (noble gases)
  none,      ///< unknown (At, Fr): radius 0
};

/// One element of the table.
struct Element {
  int z = 0;                            ///< atomic number
  const char* symbol = "";              ///< "Na"
  double radius = 0;                    ///< Angstrom; 0 where unknown
  RadiusSource radius_source = RadiusSource::none;
  double electronegativity = 0;         ///< Pauling; 0 where unknown (He, Ne, Ar)
  double mass = 0;                      ///< atomic mass in u (g/mol): the IUPAC standard atomic weight as pymatgen
                                        ///< has it (Fe 55.845, Na 22.98976928); for elements without one (Tc, Pm,
                                        ///< Po..Ac, Np..Cf) a long-lived isotope's mass number (Tc 98, Pu 244)
  std::vector<int> oxidation_states;    ///< pymatgen's common oxidation states, e.g. {-1, 1} for H
};

/// The largest atomic number in the table (98, Cf).
constexpr int kMaxAtomicNumber = 98;

/// The element of atomic number z; throws std::invalid_argument outside 1..kMaxAtomicNumber.
const Element& element(int z);

/// The atomic number of an element symbol ("Na", exact case), 0 when it names no element.
int atomic_number(const std::string& symbol);

/// The element symbol at the start of a CIF type symbol or label: "Na", "Na1", "Na+", "Fe3+",
/// "O2-", "NA1", "cl" give Na, Na, Na, Fe, O, Na, Cl. The leading letters are read as Xx when that is
/// an element, else as X; 0 when neither is (the caller names the text in its error).
int atomic_number_of_label(const std::string& label);

}  // namespace elbo::data
