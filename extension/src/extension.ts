// Entry point. Activation only wires things up: the sidecar starts on the first tool call or command
// (Supervisor.client()), never here.
import * as vscode from "vscode";
import { registerCommands } from "./commands";
import { StsContext } from "./context";
import { Supervisor, resolveBinary } from "./supervisor";
import { readSettings, SECTION, sidecarSettings } from "./settings";
import { SessionStatusBar } from "./statusbar";
import { registerTool } from "./tool";

let current: StsContext | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel("awsflow-sts", { log: true });
  const version = (context.extension.packageJSON as { version?: unknown }).version;
  const supervisor = new Supervisor({
    binary: () => resolveBinary(context.extensionPath, process.platform, process.arch, readSettings().sidecarPath),
    settings: () => sidecarSettings(readSettings()),
    clientInfo: { name: "vscode-awsflow-sts", version: typeof version === "string" ? version : undefined },
    log: (line) => logLine(output, line),
    onStateChange: (state, detail) => {
      const line = `sidecar ${state}${detail ? `: ${detail}` : ""}`;
      if (state === "failed") output.error(line);
      else output.info(line);
      if (state === "running") {
        ctx.sidecarStarted = true;
        void ctx.refreshSessions();
      } else if (state === "stopped" || state === "failed") {
        // Sessions live in the sidecar's memory: they end with its process.
        ctx.setSessions(undefined);
      }
    },
    // Only the method: a notification's params are not logged, in case one ever carries more than it should.
    onNotification: (method) => output.debug(`sidecar notification ${method}`),
  });
  const ctx = new StsContext(context, output, supervisor);
  current = ctx;
  const statusBar = new SessionStatusBar(ctx);
  ctx.statusBar = statusBar;

  context.subscriptions.push(
    output,
    statusBar,
    registerTool(ctx),
    ...registerCommands(ctx),
    vscode.workspace.onDidChangeConfiguration((e) => onSettingsChanged(ctx, e)),
  );
}

function onSettingsChanged(ctx: StsContext, e: vscode.ConfigurationChangeEvent): void {
  if (!e.affectsConfiguration(SECTION) || !ctx.supervisor.running) return;
  if (e.affectsConfiguration(`${SECTION}.sidecarPath`)) {
    ctx.output.info("sidecar path changed; restarting the sidecar");
    void ctx.supervisor.restart().catch((err: unknown) => ctx.logError("restart", err));
    return;
  }
  // A stopped sidecar reads the settings when it starts, so only a running one is told.
  void ctx.supervisor
    .updateSettings(sidecarSettings(readSettings()))
    .catch((err: unknown) => ctx.logError("settings/update", err));
}

/** Routes the sidecar's JSON log lines by level; the sidecar's own logLevel setting already filters them. */
function logLine(output: vscode.LogOutputChannel, line: string): void {
  let level: unknown;
  if (line.startsWith("{")) {
    try {
      level = (JSON.parse(line) as { level?: unknown }).level;
    } catch {
      // not JSON after all: log it as is
    }
  }
  if (level === "error" || level === "dpanic" || level === "panic" || level === "fatal") output.error(line);
  else if (level === "warn") output.warn(line);
  else output.info(line);
}

export async function deactivate(): Promise<void> {
  const ctx = current;
  current = undefined;
  await ctx?.supervisor.stop(2000);
}
