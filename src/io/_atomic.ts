/**
 * Internal: crash-safe file writes, now shared by every layer from src/torch/files.ts. This file only
 * forwards for importers that have not moved yet.
 *
 * @module
 */
export { syncDir, tempSibling, writeFileAtomic, writeFileSynced } from "../torch/files.ts";
