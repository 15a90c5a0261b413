// The one object that holds the extension's mutable state (as vscode-go's GoExtensionContext does):
// everything else receives it instead of keeping module-level state of its own.
import * as vscode from "vscode";
import { SidecarError, type SidecarClient } from "./client";
import type { Supervisor } from "./supervisor";
import { errorText } from "./errortext";
import type { SessionInfo, SessionList, SessionsChangedParams, SsoChangedParams, SsoSessionInfo } from "./protocol.gen";
import { SessionMap } from "./sessionmap";
import { applySsoChange, SignInPromptGate } from "./ssotext";
import { readSettings, type ExtensionSettings } from "./settings";
import type { SessionSync } from "./sessionsync";
import type { SessionStatusBar } from "./statusbar";
import type { TerminalCredentials } from "./terminalcreds";

const RECENT_ROLES_KEY = "awsflowSts.recentRoles";
const MAX_RECENT_ROLES = 10;

export class StsContext {
  /** Set once the sidecar has run: the status bar stays hidden before, so drawing it never starts one. */
  sidecarStarted = false;
  statusBar: SessionStatusBar | undefined;
  /** The credentials endpoint in new terminals (awsflowSts.terminalCredentials). */
  terminals: TerminalCredentials | undefined;
  /** Sessions already warned about as expiring in this sidecar run (cleared when a sidecar starts). */
  readonly expiryWarned = new Set<string>();
  /** The sidecar's sessions, kept by sessions/changed; undefined while no sidecar is running. */
  private sessionMap: SessionMap | undefined;
  /** The MFA prompt in progress: a second one would close the first, so they take turns. */
  private prompts: Promise<unknown> = Promise.resolve();
  /** The config's IAM Identity Center sign-ins: sso/list when a sidecar starts, then sso/changed. */
  private ssoList: SsoSessionInfo[] | undefined;
  /** One "Sign in to …" notification per sign-in at a time. */
  readonly signInPrompts = new SignInPromptGate();
  /** The sign-in under way (one at a time), so sso/authorize can show its code and cancel its call. */
  signIn: SignInRun | undefined;
  /** Sign-ins the user is signing out of: their own sso/changed "signedOut" asks nobody to sign in again. */
  readonly signingOut = new Set<string>();

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

  /** The sidecar's sessions as the extension knows them (undefined while it is not running). */
  get sessions(): SessionList | undefined {
    return this.sessionMap?.list();
  }

  /** The active stored session; undefined when the base identity is in use. */
  get activeSession(): SessionInfo | undefined {
    return this.sessionMap?.activeSession();
  }

  /** Replaces the known sessions with a whole list (sessions/list, or a sessions/* method's answer). */
  setSessions(list: SessionList | undefined): void {
    if (!list) this.sessionMap = undefined;
    else (this.sessionMap ??= new SessionMap()).replace(list);
    this.statusBar?.render();
  }

  /** Applies one sessions/changed notification: the sidecar sends each change, never the whole list. */
  applySessionChange(change: SessionsChangedParams): void {
    (this.sessionMap ??= new SessionMap()).apply(change);
    this.statusBar?.render();
  }

  /** The IAM Identity Center sign-ins the shared config names, as last heard; undefined before. */
  get ssoSessions(): readonly SsoSessionInfo[] | undefined {
    return this.ssoList;
  }

  setSsoSessions(list: SsoSessionInfo[] | undefined): void {
    this.ssoList = list;
    this.statusBar?.render();
  }

  applySsoChange(change: SsoChangedParams): void {
    this.ssoList = applySsoChange(this.ssoList ?? [], change);
    this.statusBar?.render();
  }

  /** Reads the sign-ins once a sidecar runs (never starts one to look); a failure only logs. */
  async loadSsoSessions(): Promise<void> {
    if (!this.supervisor.running) return;
    try {
      const client = await this.client();
      this.setSsoSessions((await client.ssoList()).sessions);
    } catch (err) {
      this.output.debug(`sso/list failed: ${errorText(err)}`);
    }
  }

  /**
   * Reads the whole list once, when a sidecar has started (or restarted); never starts one just
   * to look. Later changes arrive as sessions/changed. Failures only log: the list is a
   * convenience for the status bar and pickers.
   */
  async loadSessions(): Promise<SessionList | undefined> {
    if (!this.supervisor.running) return this.sessions;
    try {
      const client = await this.client();
      this.setSessions(await client.listSessions());
    } catch (err) {
      this.output.debug(`sessions/list failed: ${errorText(err)}`);
    }
    return this.sessions;
  }
}

/** A sign-in started from VS Code and not finished yet. */
export interface SignInRun {
  /** The sign-in's name as the command knew it (sso/authorize names the sso-session it resolved). */
  readonly name: string;
  /** Cancels the sso/login call: the sidecar stops polling at once. */
  readonly cts: vscode.CancellationTokenSource;
  /** The cancellable progress notification, once it shows. */
  progress?: vscode.Progress<{ message?: string }>;
  /** Set when the call has ended, so a late click on the code notification does nothing. */
  done: boolean;
}
