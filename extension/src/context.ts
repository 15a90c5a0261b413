// The one object that holds the extension's mutable state (as vscode-go's GoExtensionContext does):
// everything else receives it instead of keeping module-level state of its own.
import * as vscode from "vscode";
import { SidecarError, type SidecarClient } from "./client";
import type { Supervisor } from "./supervisor";
import { errorText, isMinting } from "./format";
import { RESERVED_SESSION_NAME, type SessionInfo, type SessionList } from "./protocol.gen";
import { readSettings, type ExtensionSettings } from "./settings";
import type { SessionSync } from "./sessionsync";
import type { SessionStatusBar } from "./statusbar";

const RECENT_ROLES_KEY = "awsflowSts.recentRoles";
const MAX_RECENT_ROLES = 10;

/** Commands after which the session list (and so the status bar) may have changed. */
export function changesSessions(command: string): boolean {
  return isMinting(command) || command === "UseSession" || command === "ForgetSession";
}

export class StsContext {
  /** Set once the sidecar has run: the status bar stays hidden before, so drawing it never starts one. */
  sidecarStarted = false;
  statusBar: SessionStatusBar | undefined;
  /** Sessions already warned about as expiring in this sidecar run (cleared when a sidecar starts). */
  readonly expiryWarned = new Set<string>();
  private sessionList: SessionList | undefined;
  /** The MFA prompt in progress: a second one would close the first, so they take turns. */
  private prompts: Promise<unknown> = Promise.resolve();

  constructor(
    readonly extension: vscode.ExtensionContext,
    readonly output: vscode.LogOutputChannel,
    readonly supervisor: Supervisor,
    /** The keychain copy of the sessions (awsflowSts.persistSessions). */
    readonly sync: SessionSync,
  ) {}

  /** Runs prompt after any prompt already showing has been answered. */
  inTurn<T>(prompt: () => Promise<T>): Promise<T> {
    const run = this.prompts.then(() => prompt());
    this.prompts = run.catch(() => undefined);
    return run;
  }

  /** Read fresh each time so a settings change applies to the next call without a reload. */
  settings(): ExtensionSettings {
    return readSettings();
  }

  /** The sidecar's client, starting the sidecar if it is not running (lazy start). */
  client(): Promise<SidecarClient> {
    return this.supervisor.client();
  }

  /**
   * Logs a failure: errorText for the user and the model, plus the stack of an unexpected error, which
   * errorText deliberately leaves out and points to this log for. (Sidecar errors are already scrubbed.)
   */
  logError(where: string, err: unknown): string {
    const text = errorText(err);
    this.output.error(`${where}: ${text}`);
    if (!(err instanceof SidecarError)) this.output.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    return text;
  }

  /** Role ARNs used recently, newest first. */
  recentRoles(): string[] {
    const v = this.extension.globalState.get<unknown>(RECENT_ROLES_KEY);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string").slice(0, MAX_RECENT_ROLES) : [];
  }

  async rememberRole(roleArn: string): Promise<void> {
    const roles = [roleArn, ...this.recentRoles().filter((r) => r !== roleArn)].slice(0, MAX_RECENT_ROLES);
    await this.extension.globalState.update(RECENT_ROLES_KEY, roles);
  }

  /** The last session list seen from the sidecar (undefined while it is not running). */
  get sessions(): SessionList | undefined {
    return this.sessionList;
  }

  /** The active stored session; undefined when the base identity is in use. */
  get activeSession(): SessionInfo | undefined {
    const list = this.sessionList;
    if (!list || list.active === RESERVED_SESSION_NAME) return undefined;
    return list.sessions.find((s) => s.name === list.active) ?? list.sessions.find((s) => s.active);
  }

  setSessions(list: SessionList | undefined): void {
    this.sessionList = list;
    this.statusBar?.render();
  }

  /**
   * Re-reads the session list if the sidecar is running; never starts it just to look. Failures
   * only log: the list is a convenience for the status bar and pickers.
   */
  async refreshSessions(): Promise<SessionList | undefined> {
    if (!this.supervisor.running) {
      this.setSessions(this.sessionList);
      return this.sessionList;
    }
    try {
      const client = await this.client();
      this.setSessions(await client.listSessions());
    } catch (err) {
      this.output.debug(`sessions/list failed: ${errorText(err)}`);
    }
    return this.sessionList;
  }
}
