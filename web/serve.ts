// Serves the built page (web/dist) on this computer only, 127.0.0.1, and prints its address:
// `deno task web` (which builds first). `--port N` picks the port (8000; 0 for any free one).

import { extname, join, resolve, sep } from "node:path";
import { DIST } from "./build.ts";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
};

/** A request the server answered. */
export interface Served {
  /** The path asked for. */
  path: string;
  /** The answer's status. */
  status: number;
  /** The body's size. */
  bytes: number;
}

/** A running server. */
export interface PageServer {
  /** Its address, ending in `/`. */
  url: string;
  /** Every request it answered, in order. */
  served: Served[];
  /** Stops it. */
  shutdown(): Promise<void>;
}

/**
 * Serves a folder's files (GET and HEAD) on 127.0.0.1; `/` is `index.html`.
 *
 * @param options `root`, the folder [web/dist], and `port` [8000; 0 for any free one].
 * @returns The server, listening.
 */
export function servePage(options: { root?: string; port?: number } = {}): PageServer {
  const root = resolve(options.root ?? DIST);
  const served: Served[] = [];
  const answer = (path: string, response: Response, bytes = 0) => {
    served.push({ path, status: response.status, bytes });
    return response;
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: options.port ?? 8000, onListen: () => {} },
    async (request) => {
      const { pathname } = new URL(request.url);
      if (request.method !== "GET" && request.method !== "HEAD") {
        return answer(pathname, new Response("method not allowed\n", { status: 405 }));
      }
      let path: string;
      try {
        path = resolve(root, "." + decodeURIComponent(pathname));
      } catch {
        return answer(pathname, new Response("bad path\n", { status: 400 }));
      }
      if (pathname.endsWith("/")) path = join(path, "index.html");
      if (path !== root && !path.startsWith(root + sep)) {
        return answer(pathname, new Response("not found\n", { status: 404 }));
      }
      let body: Uint8Array;
      try {
        body = await Deno.readFile(path);
      } catch {
        return answer(pathname, new Response("not found\n", { status: 404 }));
      }
      const headers = {
        "content-type": TYPES[extname(path)] ?? "application/octet-stream",
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
      };
      const sent = request.method === "HEAD" ? null : body as Uint8Array<ArrayBuffer>;
      return answer(pathname, new Response(sent, { headers }), sent ? body.length : 0);
    },
  );
  const { port } = server.addr;
  return { url: `http://127.0.0.1:${port}/`, served, shutdown: () => server.shutdown() };
}

if (import.meta.main) {
  const at = Deno.args.indexOf("--port");
  const port = at === -1 ? 8000 : Number(Deno.args[at + 1]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error("error: Cannot serve the web page: --port must be a port number, 0 to 65535");
    Deno.exit(2);
  }
  try {
    Deno.statSync(join(DIST, "index.html"));
  } catch {
    console.error(
      "error: Cannot serve the web page: web/dist is not built; run deno task web:build",
    );
    Deno.exit(2);
  }
  try {
    const { url } = servePage({ port });
    console.log(`microgpt web edition: ${url} (Ctrl-C stops it)`);
  } catch (err) {
    if (!(err instanceof Deno.errors.AddrInUse)) throw err;
    console.error(
      `error: Cannot serve the web page: port ${port} is in use; give another with --port N`,
    );
    Deno.exit(2);
  }
}
