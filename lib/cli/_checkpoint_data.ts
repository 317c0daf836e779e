// Which dataset a checkpoint was trained on. The task launcher (lib/cli/launcher.ts) needs this
// to grant the training process read access to that dataset; when the launcher itself may not
// read the checkpoint, it runs this file in a process allowed to read only the checkpoint.

/**
 * The dataset path stored in a checkpoint (null for the default dataset, or if the file cannot
 * be read: the training process then reports what is wrong with it).
 *
 * @param path The checkpoint.
 * @returns The dataset's path, or null.
 */
export function checkpointDataPath(path: string): string | null {
  try {
    const stored = JSON.parse(Deno.readTextFileSync(path))?.train?.data?.path;
    return typeof stored === "string" ? stored : null;
  } catch {
    return null;
  }
}

if (import.meta.main) console.log(JSON.stringify(checkpointDataPath(Deno.args[0] ?? "")));
