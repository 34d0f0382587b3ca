// SIGTERM (Slurm's preemption/time limit) and SIGUSR1 (sbatch --signal) ask a run to stop at the
// next batch boundary: finish the batch in hand, write and flush it, close the store, exit 75.
#pragma once

namespace esm::store {

void install_stop_handlers();    // idempotent
bool stop_requested();           // async-signal-safe flag
int stop_signal();               // the signal number received, 0 if none
void restore_default_handlers();

}  // namespace esm::store
