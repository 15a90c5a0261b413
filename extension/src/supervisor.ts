// Starts the awsflow-sts sidecar on first use, restarts it after a crash (with backoff and a cap, so a
// sidecar that cannot run never turns into a restart loop), and stops it cleanly. No vscode import:
// the extension passes in what it needs, and the tests drive it with real processes.
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import * as readline from "node:readline";
import { CancellationLike, CLIENT_ERROR_CODES, SidecarClient, SidecarError } from "./client";
import { ClientInfo, Settings } from "./protocol.gen";

const SUPPORTED_PLATFORMS: readonly string[] = ["linux", "darwin", "win32"];
const SUPPORTED_ARCHS: readonly string[] = ["x64", "arm64"];

/**
 * The sidecar binary: the user's override when set, else the one packaged for this machine under
 * bin/<platform>-<arch>/ (VS Code's target names, so one platform-specific VSIX holds one binary).
 */
export function resolveBinary(extensionRoot: string, platform: NodeJS.Platform, arch: string, override?: string): string {
  const chosen = override?.trim();
  if (chosen) {
    return chosen;
  }
  if (!SUPPORTED_PLATFORMS.includes(platform) || !SUPPORTED_ARCHS.includes(arch)) {
    throw new Error(
      `awsflow-sts ships no sidecar for ${platform}-${arch}; build one with \`make build\` and set awsflowSts.sidecarPath to it`,
    );
  }
  const name = platform === "win32" ? "awsflow-sts.exe" : "awsflow-sts";
  const join = platform === "win32" ? path.win32.join : path.posix.join;
  return join(extensionRoot, "bin", `${platform}-${arch}`, name);
}

export interface RestartPolicyOptions {
  maxRestarts?: number;
  windowMs?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export type RestartDecision = { allowed: true; delayMs: number } | { allowed: false; reason: string };

/**
 * Decides whether a crashed sidecar may be started again, and after how long. The delay doubles with
 * each restart inside the window; more than maxRestarts restarts inside the window are refused until
 * the window has passed or the user restarts the sidecar (reset).
 */
export class RestartPolicy {
  private readonly maxRestarts: number;
  private readonly windowMs: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private restarts: number[] = [];

  constructor(opts: RestartPolicyOptions = {}) {
    this.maxRestarts = opts.maxRestarts ?? 5;
    this.windowMs = opts.windowMs ?? 3 * 60_000;
    this.baseDelayMs = opts.baseDelayMs ?? 200;
    this.maxDelayMs = opts.maxDelayMs ?? 5000;
  }

  next(now: number): RestartDecision {
    this.restarts = this.restarts.filter((t) => now - t < this.windowMs);
    const recent = this.restarts.length;
    if (recent >= this.maxRestarts) {
      return {
        allowed: false,
        reason: `the sidecar stopped unexpectedly ${recent + 1} times within ${formatWindow(this.windowMs)}`,
      };
    }
    this.restarts.push(now);
    return { allowed: true, delayMs: Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** recent) };
  }

  reset(): void {
    this.restarts = [];
  }
}

function formatWindow(ms: number): string {
  const minutes = ms / 60_000;
  return Number.isInteger(minutes) && minutes >= 1 ? `${minutes} minute${minutes === 1 ? "" : "s"}` : `${Math.round(ms / 1000)} seconds`;
}

export type SupervisorState = "stopped" | "starting" | "running" | "failed";

export interface SupervisorOptions {
  binary: () => string;
  settings: () => Settings;
  clientInfo: ClientInfo;
  env?: () => NodeJS.ProcessEnv;
  /** Each stderr line of the sidecar, and supervisor events (prefixed "[supervisor]"). */
  log: (line: string) => void;
  onStateChange?: (state: SupervisorState, detail?: string) => void;
  /** A notification, with the client of the sidecar that sent it (for calls back to that same process). */
  onNotification?: (method: string, params: unknown, client: SidecarClient) => void;
  onRequest?: (method: string, params: unknown, token: CancellationLike) => Promise<unknown>;
  /**
   * Runs after initialize and before client() hands the new sidecar to anyone, so the first call after
   * a restart already sees what this sets up (the restored sessions). It must use the client it is
   * given, not client() (which waits for it). A failure or a hang past onStartedTimeoutMs is logged
   * and the start goes on.
   */
  onStarted?: (client: SidecarClient) => Promise<void>;
  /** How long onStarted may take (default 15000 ms). */
  onStartedTimeoutMs?: number;
  policy?: RestartPolicy;
  now?: () => number;
}

/** One sidecar process and its connection. */
interface Live {
  readonly proc: ChildProcess;
  readonly client: SidecarClient;
  /** Resolves once the process has exited and its pipes have closed. */
  readonly exited: Promise<void>;
  /** The connection or the process ended while this was the running sidecar (a crash). */
  crashed: boolean;
  /** The connection has ended (at any time, even before this became the running sidecar). */
  closed: boolean;
}

const LOG_LEVELS: readonly string[] = ["debug", "info", "warn", "error"];
const DEFAULT_ON_STARTED_TIMEOUT_MS = 15_000;
const RESTART_COMMAND = '"AWS STS: Restart Sidecar"';

export class Supervisor {
  private readonly policy: RestartPolicy;
  private readonly now: () => number;
  /** The running sidecar; undefined while stopped, starting, or once it crashed. */
  private live: Live | undefined;
  /** Every process spawned that has not exited yet, so stop() can leave none behind. */
  private readonly procs = new Set<Live>();
  private starting: Promise<SidecarClient> | undefined;
  /** Set when the last process crashed or failed to start: the next start asks the policy. */
  private needsPolicy = false;
  /** Bumped by stop() so a start that was waiting out its backoff does not go on. */
  private generation = 0;

  constructor(private readonly opts: SupervisorOptions) {
    this.policy = opts.policy ?? new RestartPolicy();
    this.now = opts.now ?? Date.now;
  }

  get running(): boolean {
    return this.live !== undefined;
  }

  get pid(): number | undefined {
    return this.live?.proc.pid;
  }

  /** The connected sidecar, started (or restarted after a crash) on demand; callers share one start. */
  client(): Promise<SidecarClient> {
    if (this.live) {
      return Promise.resolve(this.live.client);
    }
    if (!this.starting) {
      const start = this.start(this.generation);
      this.starting = start;
      const clear = (): void => {
        if (this.starting === start) {
          this.starting = undefined;
        }
      };
      start.then(clear, clear);
    }
    return this.starting;
  }

  /** The user's "Restart Sidecar": forgets past crashes, stops, and starts afresh. */
  async restart(): Promise<void> {
    this.log("restart requested");
    await this.stop();
    this.policy.reset();
    await this.client();
  }

  /** Passes new settings to a running sidecar; a stopped one reads them when it starts. */
  async updateSettings(settings: Settings): Promise<void> {
    if (this.live) {
      await this.live.client.updateSettings(settings);
    }
  }

  /** shutdown and exit, then SIGTERM, then SIGKILL, each given timeoutMs; resolves once the process is gone. */
  async stop(timeoutMs = 2000): Promise<void> {
    this.generation++;
    if (this.starting) {
      await this.starting.catch(() => undefined);
    }
    const live = this.live;
    this.live = undefined;
    this.needsPolicy = false;
    if (live) {
      await this.terminate(live, timeoutMs);
      live.client.dispose();
      this.log(`sidecar stopped (pid ${String(live.proc.pid)})`);
    }
    // Processes that crashed or failed to start are being killed already; wait until they are gone.
    for (const other of [...this.procs]) {
      killQuietly(other.proc, "SIGKILL");
      await other.exited;
    }
    this.setState("stopped");
  }

  private async terminate(live: Live, timeoutMs: number): Promise<void> {
    const polite = live.client.shutdown().catch(() => undefined);
    if (await within(Promise.race([polite.then(() => live.exited), live.exited]), timeoutMs)) {
      return;
    }
    this.log(`sidecar did not exit after shutdown; sending SIGTERM to pid ${String(live.proc.pid)}`);
    killQuietly(live.proc, "SIGTERM");
    if (await within(live.exited, timeoutMs)) {
      return;
    }
    this.log(`sidecar ignored SIGTERM; sending SIGKILL to pid ${String(live.proc.pid)}`);
    killQuietly(live.proc, "SIGKILL");
    await live.exited;
  }

  private async start(generation: number): Promise<SidecarClient> {
    if (this.needsPolicy) {
      await this.waitForPolicy(generation);
    }
    this.setState("starting");
    let live: Live;
    try {
      live = this.spawn();
    } catch (err) {
      throw this.startFailed(errorMessage(err));
    }
    try {
      const info = await this.handshake(live);
      if (generation !== this.generation) {
        throw stoppedWhileStarting();
      }
      await this.runOnStarted(live);
      if (generation !== this.generation) {
        throw stoppedWhileStarting();
      }
      if (live.closed) {
        const exited = live.proc.exitCode !== null || live.proc.signalCode !== null;
        throw this.startFailed(exited ? `it exited during start (${exitDescription(live.proc)})` : "its connection closed during start");
      }
      this.live = live;
      this.needsPolicy = false;
      this.log(`sidecar running: pid ${String(live.proc.pid)}, ${info}`);
      this.setState("running", info);
      return live.client;
    } catch (err) {
      live.client.dispose();
      killQuietly(live.proc, "SIGKILL");
      throw err;
    }
  }

  /** The caller's setup of a new sidecar; its failure is the caller's to fix, not a failed start. */
  private async runOnStarted(live: Live): Promise<void> {
    const onStarted = this.opts.onStarted;
    if (!onStarted) {
      return;
    }
    const timeoutMs = this.opts.onStartedTimeoutMs ?? DEFAULT_ON_STARTED_TIMEOUT_MS;
    // Never rejects, so a failure after the timeout is still logged and never goes unhandled.
    const done = Promise.resolve()
      .then(() => onStarted(live.client))
      .catch((err: unknown) => this.log(`the start-up step failed: ${errorMessage(err)}`));
    if (!(await within(done, timeoutMs))) {
      this.log(`the start-up step did not finish within ${timeoutMs} ms; going on without waiting for it`);
    }
  }

  /** Asks the restart policy after a crash; waits out the backoff, or refuses with a clear message. */
  private async waitForPolicy(generation: number): Promise<void> {
    const decision = this.policy.next(this.now());
    if (!decision.allowed) {
      const message = `The awsflow-sts sidecar was not restarted: ${decision.reason}. Check the "awsflow-sts" output channel (AWS STS: Show Log), then run ${RESTART_COMMAND}.`;
      this.log(message);
      this.setState("failed", message);
      throw new SidecarError(message, CLIENT_ERROR_CODES.SidecarFailed, { kind: "failed" });
    }
    this.log(`restarting the sidecar in ${decision.delayMs} ms`);
    await sleep(decision.delayMs);
    if (generation !== this.generation) {
      throw stoppedWhileStarting();
    }
  }

  private spawn(): Live {
    const binary = this.opts.binary();
    const settings = this.opts.settings();
    // An unknown level would make the process exit before it can say why; initialize reports it instead.
    const level = settings.logLevel && LOG_LEVELS.includes(settings.logLevel) ? settings.logLevel : "info";
    this.log(`starting ${binary} serve --log-level ${level}`);
    const proc = spawn(binary, ["serve", "--log-level", level], {
      env: this.opts.env?.() ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
      windowsHide: true,
    });
    // Without a listener a failed spawn (ENOENT, EACCES) would throw in the extension host.
    proc.on("error", (err) => this.log(`sidecar process error: ${err.message}`));
    const { stdout, stdin, stderr } = proc;
    if (!stdout || !stdin || !stderr) {
      killQuietly(proc, "SIGKILL");
      throw new Error("the sidecar's stdio pipes are missing");
    }
    readline.createInterface({ input: stderr, crlfDelay: Infinity }).on("line", (line) => this.sidecarLog(line));
    const onNotification = this.opts.onNotification;
    const client: SidecarClient = SidecarClient.connect(stdout, stdin, {
      onNotification: onNotification && ((method, params) => onNotification(method, params, client)),
      onRequest: this.opts.onRequest,
    });
    const live: Live = {
      proc,
      client,
      // "close" (not "exit") so the sidecar's last stderr lines are logged before its exit is reported.
      exited: new Promise<void>((resolve) => proc.once("close", () => resolve())),
      crashed: false,
      closed: false,
    };
    this.procs.add(live);
    void live.exited.then(() => this.onExit(live));
    client.onClose(() => {
      live.closed = true;
      this.onConnectionClosed(live);
    });
    return live;
  }

  /** initialize, raced against the process failing to start or dying first. */
  private async handshake(live: Live): Promise<string> {
    let pending = true;
    const died = new Promise<never>((_, reject) => {
      live.proc.once("error", (err) => {
        if (pending) {
          reject(this.startFailed(`could not run ${this.opts.binary()}: ${err.message}`));
        }
      });
      void live.exited.then(() => {
        if (pending) {
          reject(this.startFailed(`it exited during start (${exitDescription(live.proc)})`));
        }
      });
    });
    try {
      const result = await Promise.race([live.client.initialize(this.opts.clientInfo, this.opts.settings()), died]);
      return `${result.serverInfo.name} ${result.serverInfo.version}, protocol ${result.protocolVersion}`;
    } catch (err) {
      if (err instanceof SidecarError && err.kind === "disconnected") {
        // The pipe closed before the exit was seen: give the exit a moment so the message can say how.
        const exited = await within(live.exited, 1000);
        throw this.startFailed(exited ? `it exited during start (${exitDescription(live.proc)})` : "it stopped answering during start");
      }
      if (err instanceof SidecarError && err.kind !== "failed") {
        // The sidecar answered (bad settings, another protocol version): the user must act; no restart.
        this.log(`initialize failed: ${err.message}`);
        this.setState("failed", err.message);
      }
      throw err;
    } finally {
      pending = false;
    }
  }

  private startFailed(reason: string): SidecarError {
    this.needsPolicy = true;
    const message = `The awsflow-sts sidecar could not be started: ${reason}. Check the "awsflow-sts" output channel (AWS STS: Show Log), then run ${RESTART_COMMAND}.`;
    this.log(message);
    this.setState("failed", message);
    return new SidecarError(message, CLIENT_ERROR_CODES.SidecarFailed, { kind: "failed" });
  }

  /** The connection ended: if this was the running sidecar, it crashed (stop() clears live first). */
  private onConnectionClosed(live: Live): void {
    if (this.live !== live) {
      return;
    }
    this.live = undefined;
    this.needsPolicy = true;
    live.crashed = true;
    // A process whose pipe closed cannot be talked to any more; make sure it is gone.
    killQuietly(live.proc, "SIGKILL");
  }

  private onExit(live: Live): void {
    this.procs.delete(live);
    live.client.dispose(); // fails calls still in flight with "disconnected"
    if (this.live === live) {
      this.onConnectionClosed(live);
    }
    if (live.crashed) {
      const detail = `the sidecar (pid ${String(live.proc.pid)}) exited unexpectedly (${exitDescription(live.proc)}); it will be restarted on the next call`;
      this.log(detail);
      this.setState("stopped", detail);
    }
  }

  // The callbacks run inside process and pipe event handlers: one that throws must not break
  // supervision (or surface as an unhandled rejection in the extension host).
  private setState(state: SupervisorState, detail?: string): void {
    try {
      this.opts.onStateChange?.(state, detail);
    } catch {
      // the UI missed one state; the next one corrects it
    }
  }

  private log(event: string): void {
    this.sidecarLog(`[supervisor] ${event}`);
  }

  private sidecarLog(line: string): void {
    try {
      this.opts.log(line);
    } catch {
      // a log line is not worth a broken supervisor
    }
  }
}

function stoppedWhileStarting(): SidecarError {
  return new SidecarError("the awsflow-sts sidecar was stopped while it was starting", CLIENT_ERROR_CODES.Disconnected, {
    kind: "disconnected",
  });
}

function exitDescription(proc: ChildProcess): string {
  return proc.signalCode ? `signal ${proc.signalCode}` : `exit code ${String(proc.exitCode)}`;
}

/** Sends a signal unless the process has already exited (kill on an exited process is harmless but noisy). */
function killQuietly(proc: ChildProcess, signal: NodeJS.Signals): void {
  if (proc.exitCode === null && proc.signalCode === null) {
    proc.kill(signal);
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Whether the promise settles within ms. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
