// Bundles the extension into out/extension.js: one CommonJS file for VS Code's Node extension host,
// with vscode left to the host and vscode-jsonrpc bundled in (no node_modules in the VSIX).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import * as path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

try {
  const result = await build({
    absWorkingDir: root,
    entryPoints: ["extension/src/extension.ts"],
    outfile: "out/extension.js",
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node20",
    external: ["vscode"],
    minify: true,
    sourcemap: "linked",
    logLevel: "info",
  });
  if (result.errors.length > 0) process.exit(1);
} catch {
  // esbuild has already printed the errors.
  process.exit(1);
}
