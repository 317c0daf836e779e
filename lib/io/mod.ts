// I/O: the dataset (read, downloaded on first use), checkpoints (made, saved as safetensors,
// loaded and restored), numbers formatted as the reference prints them, and the error class
// for a user's mistake.

export * from "./data.ts";
export {
  type Checkpoint,
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  checkpointOf,
  type CheckpointRun,
  decodeCheckpoint,
  docsSha256,
  loadCheckpoint,
  MAX_PARAM,
  restoreCheckpoint,
  saveCheckpoint,
} from "./checkpoint.ts";
export * from "./format.ts";
export { UserError } from "./errors.ts";
export type { FileSystem } from "./files.ts";
