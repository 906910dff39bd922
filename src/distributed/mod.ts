/**
 * Distributed data parallelism on c10d: joining a job (torchrun or Slurm variables), the process
 * group and its Communicator, weight broadcast, gradient averaging and synchronised batch norm.
 *
 * @module
 */
export { DEFAULT_PORT, type LaunchEnv, readLaunchEnv } from "./env.ts";
export { expandNodeList } from "./slurm.ts";
export {
  DistributedError,
  type GradientHooks,
  ncclErrorEnvironment,
  ProcessGroup,
  type ProcessGroupOptions,
} from "./process_group.ts";
export { defaultBackend, type Distributed, initDistributed, type InitDistributedOptions } from "./init.ts";
export { type GroupCommunicator, processGroupComm } from "./communicator.ts";
export { broadcastTensors, GradientAverager, type GradientAveragerOptions } from "./grad_sync.ts";
export { syncBatchNorm } from "./sync_batch_norm.ts";
export { launchLocal, type LaunchLocalOptions } from "./launcher.ts";
export { agreeToStop } from "./stop_agreement.ts";
export { dataParallel, type DataParallelOps } from "./data_parallel.ts";
