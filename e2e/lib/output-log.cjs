// The awsflow-sts output channel as VS Code writes it to disk: every awsflow-sts.log below some
// folders, and their text. Shared by the e2e suite (in the extension host), the chat driver and
// the host benchmark's test extension.
const fs = require("node:fs");
const path = require("node:path");

/**
 * Finds awsflow-sts.log files below roots, down to maxDepth folders; with underLogs, only those in
 * a "logs" folder (VS Code's log tree, not a copy elsewhere). Returns the files and their text.
 */
function readOutputLog(roots, { maxDepth = 8, underLogs = true } = {}) {
  const files = new Set();
  const walk = (dir, depth) => {
    let entries = [];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && depth < maxDepth) walk(p, depth + 1);
      else if (e.isFile() && /awsflow-sts\.log$/.test(e.name) && (!underLogs || p.includes(`${path.sep}logs${path.sep}`))) files.add(p);
    }
  };
  for (const r of roots) walk(r, 0);
  const list = [...files];
  return { files: list, text: list.map((f) => fs.readFileSync(f, "utf8")).join("\n") };
}

module.exports = { readOutputLog };
