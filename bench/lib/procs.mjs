// The processes a run needs: the embedded local STS, a scratch AWS config holding its demo user,
// and the sidecar spawned exactly as the extension's Supervisor spawns it (`serve --log-level`, all
// three pipes, stderr read line by line), driven through the extension's own SidecarClient.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const sidecarBinary = process.env.AWSFLOW_STS_BIN || path.join(repoRoot, "bin", "awsflow-sts");

const require = createRequire(import.meta.url);
/**
 * The extension's RPC client, bundled from extension/src/client.ts by bench/build.mjs
 * (BENCH_CLIENT names another bundle, to measure an older client).
 */
export const { SidecarClient, SidecarError } = require(path.resolve(process.env.BENCH_CLIENT || path.join(repoRoot, "bench", ".build", "client.cjs")));

/** Rejects when p has not settled within ms. */
export async function withTimeout(p, ms, what) {
  let timer;
  try {
    return await Promise.race([
      p,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Starts `awsflow-sts localsts` and reads its announcement line. */
export async function startLocalSts() {
  const proc = spawn(sidecarBinary, ["localsts", "--addr", "127.0.0.1:0", "--log-level", "warn"], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise((resolve) => proc.once("close", resolve));
  const lines = readline.createInterface({ input: proc.stdout });
  const first = await withTimeout(
    new Promise((resolve, reject) => {
      lines.once("line", resolve);
      proc.once("error", reject);
      void exited.then(() => reject(new Error("localsts exited before announcing itself")));
    }),
    15_000,
    "localsts start",
  );
  lines.close();
  proc.stdout.resume();
  return {
    info: JSON.parse(first),
    pid: proc.pid,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      await exited;
    },
  };
}

/**
 * A scratch AWS config: a default profile with the local STS's demo user and its Region, and an
 * environment (this process's minus every AWS_ variable) that points the SDKs and the CLI at it
 * and at nothing of the developer's own.
 */
export function scratchAws(info) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "awsflow-bench-"));
  const config = path.join(dir, "config");
  const credentials = path.join(dir, "credentials");
  fs.writeFileSync(config, `[default]\nregion = ${info.region}\n`, { mode: 0o600 });
  fs.writeFileSync(
    credentials,
    `[default]\naws_access_key_id = ${info.accessKeyId}\naws_secret_access_key = ${info.secretAccessKey}\n`,
    { mode: 0o600 },
  );
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("AWS_")) env[k] = v;
  }
  Object.assign(env, {
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: credentials,
    AWS_EC2_METADATA_DISABLED: "true",
  });
  return { dir, env, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** The settings the extension sends by default, with the local STS as the endpoint. */
export function extensionSettings(info) {
  return { profile: "", region: info.region, endpointUrl: info.endpoint, useFipsEndpoint: false, maxAttempts: 3, logLevel: "info" };
}

export const clientInfo = { name: "awsflow-sts-bench", version: "1" };

/**
 * Spawns `awsflow-sts serve` as the Supervisor does and connects a SidecarClient. t0 is read just
 * before spawn, so callers can time spawn → first answer.
 */
export function spawnSidecar(env, level = "info") {
  const t0 = process.hrtime.bigint();
  const proc = spawn(sidecarBinary, ["serve", "--log-level", level], { env, stdio: ["pipe", "pipe", "pipe"] });
  proc.on("error", () => {});
  const log = { lines: 0, last: "" };
  readline.createInterface({ input: proc.stderr, crlfDelay: Infinity }).on("line", (line) => {
    log.lines++;
    log.last = line;
  });
  const client = SidecarClient.connect(proc.stdout, proc.stdin);
  const exited = new Promise((resolve) => proc.once("close", resolve));
  return {
    t0,
    proc,
    client,
    log,
    pid: proc.pid,
    /** shutdown + exit, as the extension's deactivate does; SIGKILL if it takes over 5 s. */
    async stop() {
      try {
        await withTimeout(client.shutdown(), 5000, "shutdown");
      } catch {
        proc.kill("SIGKILL");
      }
      client.dispose();
      await withTimeout(exited, 5000, "sidecar exit").catch(() => proc.kill("SIGKILL"));
    },
  };
}

/** VmRSS of a process in MiB, from /proc/<pid>/status (null where there is no /proc). */
export function rssMiB(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Runs a command to its exit; resolves with its exit code, stdout and the time it took. */
export function runToExit(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const proc = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    proc.stdout.on("data", (d) => (out += d));
    proc.stderr.on("data", (d) => (err += d));
    proc.once("error", reject);
    proc.once("close", (code) => resolve({ code, out, err, ns: Number(process.hrtime.bigint() - t0) }));
  });
}

/** CPU time (user + system) a process has used, in seconds, from /proc/<pid>/stat (null without /proc). */
export function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 of stat (utime, stime) are the 12th and 13th after the command name.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}
