// The executor of plans (plan.hpp): no decisions, only engine calls and progress.
#pragma once

#include <mutex>
#include <string>

#include "fleet/plan.hpp"
#include "fleet/project.hpp"

namespace fleet {

class Executor {
 public:
  explicit Executor(ProjectContext& ctx);
  void run(const Plan& plan, const compose::Selection& selection, const UpRequest& request);

 private:
  void run_setup(const Step& step);
  void run_step(const Step& step);
  std::string create(const compose::Service& service, int number, const std::string& name);
  void start(const compose::Service& service, const std::string& id, const std::string& name);
  void stop_and_remove(const Step& step, const compose::Service& service);
  void wait_for_dependencies(const std::string& service, const compose::Selection& selection);
  void report(const std::string& object, const std::string& status,
              ProgressEvent::Kind kind = ProgressEvent::Kind::Working);

  ProjectContext& ctx_;
  UpRequest request_;
  std::mutex progress_mutex_;
};

}  // namespace fleet
