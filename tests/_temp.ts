// Test helper: a fresh temporary folder per test, removed afterwards whatever happens.

/**
 * Wraps a test body so that it runs in a new temporary folder, removed in `finally` (also when
 * an assertion fails).
 */
export function inTempDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = await Deno.makeTempDir();
    try {
      await fn(dir);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  };
}
