// Shared by the tests that run the real sidecar: where the binary is, the embedded local STS, a
// scrubbed environment, and an HTTP endpoint that never answers. (node --test also loads this file as
// a test file; it defines no tests.)
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import type * as jsonrpcTypes from "vscode-jsonrpc/lib/node/main";
import assert from "node:assert/strict";
import { SidecarError } from "../src/client";
import { Supervisor, type SupervisorOptions } from "../src/supervisor";

// See client.ts: the Node entry point of vscode-jsonrpc is only reachable through "exports".
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const jsonrpc: typeof jsonrpcTypes = require("vscode-jsonrpc/node");

/** The repository root (tests run from out-test/extension/test/). */
export const repoRoot = path.resolve(__dirname, "..", "..", "..");
/** The sidecar under test: AWSFLOW_STS_BIN (as `make test-ext` sets it), else the repository's bin/. */
export const sidecarBinary =
  process.env.AWSFLOW_STS_BIN || path.join(repoRoot, "bin", process.platform === "win32" ? "awsflow-sts.exe" : "awsflow-sts");

/**
 * Why tests that need the real sidecar should skip, or undefined when it is there. Where
 * AWSFLOW_REQUIRE_PEERS=1 (CI) a missing binary is an error instead of a skip.
 */
export function sidecarSkipReason(): string | undefined {
  if (fs.existsSync(sidecarBinary)) {
    return undefined;
  }
  const reason = `${sidecarBinary} does not exist; run \`make build\` first`;
  if (process.env.AWSFLOW_REQUIRE_PEERS === "1") {
    throw new Error(`AWSFLOW_REQUIRE_PEERS=1 but ${reason}`);
  }
  return `skipped: ${reason}`;
}

/** The first line `awsflow-sts localsts` prints. */
export interface LocalStsInfo {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  roleArn: string;
  account: string;
}

export interface LocalSts {
  info: LocalStsInfo;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** Starts the embedded local STS and reads its announcement line. */
export async function startLocalSts(): Promise<LocalSts> {
  const proc = spawn(sidecarBinary, ["localsts", "--addr", "127.0.0.1:0", "--log-level", "warn"], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => proc.once("close", () => resolve()));
  const stdout = proc.stdout;
  if (!stdout) {
    throw new Error("localsts has no stdout");
  }
  const lines = readline.createInterface({ input: stdout });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once("line", resolve);
    proc.once("error", reject);
    void exited.then(() => reject(new Error("localsts exited before announcing itself")));
  });
  lines.close();
  stdout.resume(); // keep draining so the process never blocks on a full pipe
  const info = JSON.parse(first) as LocalStsInfo;
  return {
    info,
    proc,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGTERM");
      }
      await exited;
    },
  };
}

/** A scratch folder removed by the returned function. */
export function scratchDir(): { dir: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "awsflow-ext-test-"));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The sidecar's environment: this process's minus every AWS_ variable (so the developer's own
 * profile can never leak in), plus the given keys and empty config files.
 */
export function sidecarEnv(dir: string, keys?: { accessKeyId: string; secretAccessKey: string }): NodeJS.ProcessEnv {
  const config = path.join(dir, "aws-config");
  const credentials = path.join(dir, "aws-credentials");
  fs.writeFileSync(config, "");
  fs.writeFileSync(credentials, "");
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("AWS_")) {
      env[k] = v;
    }
  }
  env.AWS_CONFIG_FILE = config;
  env.AWS_SHARED_CREDENTIALS_FILE = credentials;
  env.AWS_EC2_METADATA_DISABLED = "true";
  if (keys) {
    env.AWS_ACCESS_KEY_ID = keys.accessKeyId;
    env.AWS_SECRET_ACCESS_KEY = keys.secretAccessKey;
  }
  return env;
}

/** POSTs JSON to the local STS's helper routes and returns the parsed answer. */
export async function postJson<T>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) {
    throw new Error(`POST ${url}: ${res.status} ${text}`);
  }
  return JSON.parse(text) as T;
}

export interface HangingServer {
  url: string;
  /** Resolves when the next request arrives. */
  nextRequest(): Promise<void>;
  close(): Promise<void>;
}

/** An HTTP server that accepts requests and never answers them: a hung STS endpoint. */
export async function startHangingServer(): Promise<HangingServer> {
  const sockets = new Set<Socket>();
  let waiters: (() => void)[] = [];
  const server = http.createServer(() => {
    const ready = waiters;
    waiters = [];
    ready.forEach((w) => w());
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    nextRequest: () => new Promise<void>((resolve) => waiters.push(resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        sockets.forEach((s) => s.destroy());
        server.close(() => resolve());
      }),
  };
}

/** Whether a process with this pid still exists. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Rejects if the promise has not settled within ms, so a hang fails the test instead of stalling it. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The SidecarError a call fails with; fails the test if it succeeds or fails otherwise. */
export async function rejection(p: Promise<unknown>): Promise<SidecarError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof SidecarError, `expected a SidecarError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected the call to fail");
}

/**
 * A supervisor of the real sidecar binary pointed at the local STS with a scratch AWS profile in dir;
 * more holds the test's own hooks (onRequest, onNotification, …) and overrides.
 */
export function localSupervisor(name: string, sts: LocalSts, dir: string, more: Partial<SupervisorOptions> = {}): Supervisor {
  const env = sidecarEnv(dir, sts.info);
  return new Supervisor({
    binary: () => sidecarBinary,
    settings: () => ({ endpointUrl: sts.info.endpoint, region: sts.info.region, maxAttempts: 1 }),
    clientInfo: { name },
    env: () => env,
    log: () => undefined,
    ...more,
  });
}
