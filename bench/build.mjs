// Bundles the extension's own RPC client (extension/src/client.ts, with vscode-jsonrpc) into
// bench/.build/client.cjs for the harness, with the esbuild settings the extension is shipped with
// (scripts/build-extension.mjs), left unminified so CPU profiles name its functions.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import * as path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

try {
  const result = await build({
    absWorkingDir: root,
    entryPoints: ["extension/src/client.ts"],
    outfile: "bench/.build/client.cjs",
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node20",
    external: ["vscode"],
    minify: false,
    sourcemap: "linked",
    logLevel: "warning",
  });
  if (result.errors.length > 0) process.exit(1);
} catch {
  process.exit(1);
}
