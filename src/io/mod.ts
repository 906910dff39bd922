/**
 * Files (src/io): safetensors, training checkpoints, the metrics log, SVG plots, Markdown reports and the
 * progress display.
 *
 * @module
 */
export {
  deserializeSafetensors,
  loadSafetensors,
  type SafetensorsContent,
  saveSafetensors,
  type SaveSafetensorsOptions,
  serializeSafetensors,
} from "./safetensors.ts";
export {
  addPrefix,
  type CheckpointData,
  type IntactCheckpoint,
  latestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  type LoadedCheckpoint,
  loadLatestIntactCheckpoint,
  type RefusedCheckpoint,
  restoreRngState,
  rngStateToBase64,
  saveCheckpoint,
  type SaveCheckpointOptions,
  selectPrefix,
} from "./checkpoint.ts";
export { MetricsLog, readMetricsLog, type TrainingRecord } from "./metrics_log.ts";
export {
  labelWidth,
  type Panel,
  type PlotOptions,
  plotPanels,
  type Series,
  smoothCentred,
  trainingPanels,
} from "./plot.ts";
export { formatReport, type ReportRow, type RunReport, writeReport } from "./report.ts";
export { Progress, type ProgressOptions, type ProgressValues } from "./progress.ts";
