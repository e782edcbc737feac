#include "cli/exit_codes.hpp"

#include "compose/error.hpp"
#include "compose/profiles.hpp"
#include "engine/errors.hpp"
#include "fleet/errors.hpp"

namespace fleet::cli {

ExitStatus exit_status_for_current_exception() {
  try {
    throw;
  } catch (const UsageError& e) {
    return {kExitBadInput, e.what()};
  } catch (const InvalidInput& e) {
    return {kExitBadInput, e.what()};
  } catch (const compose::ComposeError& e) {
    return {kExitBadInput, e.what()};
  } catch (const compose::SelectionError& e) {
    return {kExitBadInput, e.what()};
  } catch (const OperationFailed& e) {
    return {kExitFailure, e.what()};
  } catch (const engine::EngineError& e) {
    bool bad_input = e.kind() == engine::ErrorKind::InvalidEndpoint;
    return {bad_input ? kExitBadInput : kExitFailure, e.what()};
  } catch (const std::exception& e) {
    return {kExitFailure, std::string("internal error: ") + e.what()};
  } catch (...) {
    return {kExitFailure, "internal error: unknown exception"};
  }
}

}  // namespace fleet::cli
