// "Use the Local STS" and "Stop Using the Local STS": try the extension with no AWS account. Use
// starts `awsflow-sts localsts` from the bundled binary on a free loopback port, writes its demo
// identity as a profile into scratch shared-config files under the extension's storage, points
// awsflowSts.endpointUrl, region and profile at them, and restarts the sidecar with those files in
// its environment. Stop stops it and puts the user's settings back.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import * as path from "node:path";
import * as vscode from "vscode";
import type { StsContext } from "../context";
import {
  LOCAL_PROFILE,
  LOCAL_STS_SETTINGS,
  localProfileFiles,
  localStsSettings,
  parseAnnouncement,
  previousSettings,
  sidecarEnv,
  type LocalProfilePaths,
  type LocalStsInfo,
} from "../localsts";
import { readSettings, SECTION } from "../settings";
import { resolveBinary } from "../supervisor";
import type { Args, CommandResult } from "./ui";

/** Where the user's own settings wait while the local STS is in use. */
const PREVIOUS_KEY = "awsflowSts.localSts.previousSettings";
/** How long the local STS may take to print its first line. */
const START_TIMEOUT_MS = 10_000;

let running: { proc: ChildProcess; info: LocalStsInfo } | undefined;
let profilePaths: LocalProfilePaths | undefined;

/** The sidecar's environment (Supervisor's env option): the scratch profile's files while in use. */
export function localStsSidecarEnv(): NodeJS.ProcessEnv {
  return sidecarEnv(process.env, profilePaths);
}

export async function useLocalSts(ctx: StsContext, args: Args | undefined): Promise<CommandResult> {
  if (running) return `The local STS is already in use at ${running.info.endpoint}.`;
  if (args?.confirm !== true) {
    const go = "Use the Local STS";
    const choice = await vscode.window.showInformationMessage(
      "Start a local STS with a demo world and point awsflow-sts at it?",
      {
        modal: true,
        detail:
          "This sets awsflowSts.endpointUrl, region and profile in your user settings and restarts the sidecar " +
          "with the demo identity (published keys that guard nothing). Sessions of your real identity end. " +
          '"AWS STS: Stop Using the Local STS" puts your settings back; after VS Code restarts, run either command again.',
      },
      go,
    );
    if (choice !== go) return undefined;
  }
  const binary = resolveBinary(ctx.extension.extensionPath, process.platform, process.arch, readSettings().sidecarPath);
  const proc = spawn(binary, ["localsts", "--addr", "127.0.0.1:0", "--log-level", "warn"], { stdio: ["ignore", "pipe", "pipe"] });
  let info: LocalStsInfo;
  try {
    info = parseAnnouncement(await firstLine(proc));
  } catch (err) {
    proc.kill();
    throw err;
  }
  running = { proc, info };
  proc.stdout?.resume(); // nothing more is expected there; never let a full pipe stall it
  proc.stderr?.on("data", (d: Buffer) => ctx.output.info(`local STS: ${d.toString().trimEnd()}`));
  proc.on("exit", (code, signal) => {
    if (running?.proc === proc) {
      running = undefined;
      ctx.output.warn(`the local STS exited (${signal ?? `code ${code}`})`);
    }
  });
  // It ends with the extension host, not after it.
  ctx.extension.subscriptions.push({ dispose: () => proc.kill() });

  const dir = path.join(ctx.extension.globalStorageUri.fsPath, "localsts");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const paths: LocalProfilePaths = { credentials: path.join(dir, "credentials"), config: path.join(dir, "config") };
  const files = localProfileFiles(info);
  await writeFile(paths.credentials, files.credentials, { mode: 0o600 });
  await writeFile(paths.config, files.config, { mode: 0o600 });

  const config = vscode.workspace.getConfiguration(SECTION);
  if (ctx.extension.globalState.get(PREVIOUS_KEY) === undefined) {
    const previous: Record<string, string | undefined> = {};
    for (const key of LOCAL_STS_SETTINGS) {
      const v = config.inspect<string>(key)?.globalValue;
      previous[key] = typeof v === "string" ? v : undefined;
    }
    await ctx.extension.globalState.update(PREVIOUS_KEY, previous);
  }
  profilePaths = paths;
  for (const [key, value] of Object.entries(localStsSettings(info))) {
    await config.update(key, value, vscode.ConfigurationTarget.Global);
  }
  await ctx.supervisor.restart();
  await ctx.loadSessions();
  const text = `Using the local STS at ${info.endpoint} as ${LOCAL_PROFILE} (the demo user in account ${info.account}); try ${info.roleArn || "a demo role"}.`;
  void vscode.window.showInformationMessage(text);
  return text;
}

export async function stopUsingLocalSts(ctx: StsContext, _args: Args | undefined): Promise<CommandResult> {
  const saved = ctx.extension.globalState.get<unknown>(PREVIOUS_KEY);
  const wasRunning = running !== undefined;
  if (running) {
    const { proc } = running;
    running = undefined;
    proc.kill();
  }
  profilePaths = undefined;
  if (saved === undefined && !wasRunning) return "The local STS is not in use.";
  const config = vscode.workspace.getConfiguration(SECTION);
  for (const [key, value] of Object.entries(previousSettings(saved))) {
    await config.update(key, value, vscode.ConfigurationTarget.Global);
  }
  await ctx.extension.globalState.update(PREVIOUS_KEY, undefined);
  await ctx.supervisor.restart();
  await ctx.loadSessions();
  const text = "Stopped using the local STS; your awsflowSts.endpointUrl, region and profile are back.";
  void vscode.window.showInformationMessage(text);
  return text;
}

/** The first stdout line of proc, or an error if it exits or stays silent first. */
function firstLine(proc: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = "";
    let stderr = "";
    const done = (err: Error | undefined, line?: string): void => {
      clearTimeout(timer);
      proc.stdout?.removeListener("data", onData);
      proc.removeListener("exit", onExit);
      proc.removeListener("error", onError);
      if (err) reject(err);
      else resolve(line ?? "");
    };
    const onData = (d: Buffer): void => {
      buf += d.toString();
      const nl = buf.indexOf("\n");
      if (nl >= 0) done(undefined, buf.slice(0, nl));
    };
    const onExit = (code: number | null): void =>
      done(new Error(`the local STS exited (code ${code}) before it started${stderr ? `: ${stderr.trim().slice(0, 300)}` : ""}`));
    const onError = (err: Error): void => done(new Error(`could not start the local STS: ${err.message}`));
    const timer = setTimeout(() => done(new Error(`the local STS did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    proc.stderr?.on("data", (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString();
    });
    proc.stdout?.on("data", onData);
    proc.once("exit", onExit);
    proc.once("error", onError);
  });
}
