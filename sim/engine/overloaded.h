#pragma once
// Overloaded{lambda, lambda...}: one visitor for std::visit from several lambdas.

namespace cadereau::sim::engine {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace cadereau::sim::engine
