#include "elbo/data/schema.h"

#include "elbo/data/dataset.h"

namespace elbo::data {

const char* to_string(Role role) {
  switch (role) {
    case Role::input: return "input";
    case Role::target: return "target";
    case Role::label: return "label";
    case Role::condition: return "condition";
  }
  return "?";
}

const Field* Schema::find(const std::string& name) const {
  for (const auto& f : fields)
    if (f.name == name) return &f;
  return nullptr;
}

namespace {
int64_t elements(const Field* f) {
  if (!f) return 0;
  int64_t n = 1;
  for (int64_t d : f->event_shape) n *= d;
  return n;
}
}  // namespace

int64_t Schema::features() const { return elements(find("x")); }
int64_t Schema::classes() const { return find("y") ? find("y")->classes : 0; }
int64_t Schema::targets() const { return elements(find("target")); }

Schema Schema::of_features(int64_t features, const ImageShape& image) {
  Schema s;
  s.fields.push_back({"x", torch::kFloat32, {features}, Role::input});
  s.image = image;
  return s;
}

Schema Schema::of(const Dataset& d, int64_t classes) {
  Schema s = of_features(d.features(), d.image);
  s.fields.front().masked = d.mask.defined();
  s.examples = d.size();
  s.modalities = d.modalities;
  if (d.y.defined()) {
    Field y{"y", torch::kInt64, {}, Role::label};
    y.masked = d.y_mask.defined();
    y.classes = classes > 0 ? classes : (d.y.numel() > 0 ? d.y.max().item<int64_t>() + 1 : 0);
    s.fields.push_back(y);
  }
  if (d.target.defined()) s.fields.push_back({"target", torch::kFloat32, {d.target.size(1)}, Role::target});
  return s;
}

}  // namespace elbo::data
