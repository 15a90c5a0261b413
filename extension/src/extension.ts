// Entry point. Activation only wires things up: the sidecar starts on the first tool call or command
// (Supervisor.client()), never here.
import * as vscode from "vscode";
import { registerCommands } from "./commands";
import { localStsSidecarEnv } from "./commands/localsts";
import { askMfaCode } from "./commands/mfa";
import { onAuthorize, onSsoChanged } from "./commands/sso";
import { SidecarError, type CancellationLike, type SidecarClient } from "./client";
import { StsContext } from "./context";
import { SessionVault } from "./persist";
import { ERROR_CODES, METHODS } from "./protocol.gen";
import { readChangedParams, SessionSync } from "./sessionsync";
import { Supervisor, resolveBinary } from "./supervisor";
import { readSettings, SECTION, sidecarSettings } from "./settings";
import { SessionStatusBar } from "./statusbar";
import { TerminalCredentials } from "./terminalcreds";
import { registerTool } from "./tool";

let current: StsContext | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel("awsflow-sts", { log: true });
  const version = (context.extension.packageJSON as { version?: unknown }).version;
  // The keychain copy of the sessions: SecretStorage is the OS keychain (or VS Code's encrypted store).
  const vault = new SessionVault(context.secrets, { log: (line) => output.warn(line) });
  const sync = new SessionSync(vault, { enabled: () => readSettings().persistSessions, log: (line) => output.info(line) });
  // The sidecar's credentials endpoint in every new terminal and task (awsflowSts.terminalCredentials).
  const terminals = new TerminalCredentials(context.environmentVariableCollection, () => readSettings().terminalCredentials, output);
  const supervisor: Supervisor = new Supervisor({
    binary: () => resolveBinary(context.extensionPath, process.platform, process.arch, readSettings().sidecarPath),
    settings: () => sidecarSettings(readSettings()),
    env: localStsSidecarEnv,
    clientInfo: { name: "vscode-awsflow-sts", version: typeof version === "string" ? version : undefined },
    log: (line) => logLine(output, line),
    onStateChange: (state, detail) => {
      const line = `sidecar ${state}${detail ? `: ${detail}` : ""}`;
      if (state === "failed") output.error(line);
      else output.info(line);
      if (state === "running") {
        ctx.sidecarStarted = true;
        void ctx.loadSessions();
        void ctx.loadSsoSessions();
      } else if (state === "starting") {
        // A new sidecar run: its sessions may warn about expiring again.
        ctx.expiryWarned.clear();
      } else if (state === "stopped" || state === "failed") {
        // Sessions live in the sidecar's memory: they end with its process (the keychain copy stays).
        ctx.setSessions(undefined);
        ctx.setSsoSessions(undefined);
        // The endpoint's URL and token died with it: new terminals must not get a dead one.
        terminals.clear("the sidecar stopped");
      }
    },
    // Before any caller gets the new sidecar, so the first call after a restart sees the restored sessions.
    onStarted: async (client) => {
      try {
        await sync.reseed(client);
      } catch (err) {
        // The sidecar works without them; the copies stay in the keychain for the next start.
        output.warn(`could not restore the stored sessions: ${err instanceof Error ? err.message : String(err)}`);
      }
      // Before anyone gets the new sidecar, so a terminal opened after the first call already has it.
      await terminals.apply(client);
    },
    onNotification: (method, params, client) => onNotification(ctx, method, params, client),
    onRequest: (method, params, token): Promise<unknown> => onRequest(ctx, method, params, token),
  });
  const ctx: StsContext = new StsContext(context, output, supervisor, sync);
  ctx.terminals = terminals;
  current = ctx;
  const statusBar = new SessionStatusBar(ctx);
  ctx.statusBar = statusBar;
  if (!readSettings().persistSessions) void sync.disable();

  context.subscriptions.push(
    output,
    statusBar,
    registerTool(ctx),
    ...registerCommands(ctx),
    vscode.workspace.onDidChangeConfiguration((e) => onSettingsChanged(ctx, e)),
  );
}

// Only the method and the session's name and reason are logged: params carry no secrets by contract,
// but a log line is no place to find out otherwise.
function onNotification(ctx: StsContext, method: string, params: unknown, client: SidecarClient): void {
  if (method === METHODS.ssoChanged) {
    onSsoChanged(ctx, params);
    return;
  }
  if (method !== METHODS.sessionsChanged) {
    ctx.output.debug(`sidecar notification ${method}`);
    return;
  }
  const changed = readChangedParams(params);
  if (!changed) {
    ctx.output.warn(`ignored a ${method} notification of an unexpected shape`);
    return;
  }
  ctx.output.debug(`session ${changed.session}: ${changed.reason}`);
  ctx.applySessionChange(changed);
  void ctx.sync.onChanged(changed, client);
  ctx.statusBar?.onSessionsChanged(changed);
}

async function onRequest(ctx: StsContext, method: string, params: unknown, token: CancellationLike): Promise<unknown> {
  if (method === METHODS.mfaTokenCode) return askMfaCode(ctx, params, token);
  // Answered at once: the code notification stays up while the sidecar polls.
  if (method === METHODS.ssoAuthorize) return onAuthorize(ctx, params);
  throw new SidecarError(`the extension does not handle ${method}`, ERROR_CODES.MethodNotFound, { kind: "protocol" });
}

function onSettingsChanged(ctx: StsContext, e: vscode.ConfigurationChangeEvent): void {
  if (e.affectsConfiguration(`${SECTION}.persistSessions`)) onPersistChanged(ctx);
  if (e.affectsConfiguration(`${SECTION}.terminalCredentials`)) onTerminalCredentialsChanged(ctx);
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

/** Off: the keychain copy goes now. On: the running sidecar's sessions are stored now, not at their next change. */
function onPersistChanged(ctx: StsContext): void {
  if (!readSettings().persistSessions) {
    void ctx.sync.disable();
    return;
  }
  const list = ctx.sessions;
  if (!ctx.supervisor.running || !list) return;
  void ctx
    .client()
    .then((client) => ctx.sync.saveAll(client, list))
    .catch((err: unknown) => ctx.logError("persistSessions", err));
}

/** Off: the variables go now. On: a running sidecar's endpoint is handed out now (a stopped one's at its start). */
function onTerminalCredentialsChanged(ctx: StsContext): void {
  const terminals = ctx.terminals;
  if (!terminals) return;
  if (!readSettings().terminalCredentials) {
    terminals.clear("awsflowSts.terminalCredentials was turned off");
    return;
  }
  if (!ctx.supervisor.running) return;
  void ctx
    .client()
    .then((client) => terminals.apply(client))
    .catch((err: unknown) => ctx.logError("terminalCredentials", err));
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
