// The status bar items: the active identity and its time left, and beside it the IAM Identity Center
// sign-in and its token's time left. They only draw what the context already knows, so they never
// start the sidecar; they appear once the sidecar has run (the sign-in only when the config names one).
import * as vscode from "vscode";
import type { StsContext } from "./context";
import { expiryWarning, statusBarText } from "./sessiontext";
import { ssoStatusText } from "./ssotext";
import type { SessionsChangedParams } from "./protocol.gen";

const TICK_MS = 30_000;

export class SessionStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly ssoItem: vscode.StatusBarItem;
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(private readonly ctx: StsContext) {
    this.item = vscode.window.createStatusBarItem("awsflowSts.session", vscode.StatusBarAlignment.Left, 100);
    this.item.name = "AWS STS session";
    this.item.command = "awsflowSts.switchSession";
    // Just right of the session item (higher priority is further left).
    this.ssoItem = vscode.window.createStatusBarItem("awsflowSts.sso", vscode.StatusBarAlignment.Left, 99);
    this.ssoItem.name = "AWS IAM Identity Center sign-in";
  }

  render(): void {
    if (this.disposed) return;
    if (!this.ctx.sidecarStarted) {
      this.item.hide();
      this.ssoItem.hide();
      this.stopTimer();
      return;
    }
    const now = Date.now();
    const sso = ssoStatusText(this.ctx.ssoSessions, now);
    if (sso) {
      this.ssoItem.text = sso.text;
      this.ssoItem.tooltip = sso.tooltip;
      this.ssoItem.command = sso.signedIn ? "awsflowSts.ssoUseRole" : "awsflowSts.ssoSignIn";
      this.ssoItem.backgroundColor = sso.warning ? new vscode.ThemeColor("statusBarItem.warningBackground") : undefined;
      this.ssoItem.show();
    } else {
      this.ssoItem.hide();
    }
    const active = this.ctx.activeSession;
    const { text, tooltip, warning } = statusBarText(active, now);
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.backgroundColor = warning ? new vscode.ThemeColor("statusBarItem.warningBackground") : undefined;
    this.item.show();
    // The countdowns only move while a session is active or a sign-in holds a token; else nothing to count.
    if (active || sso?.signedIn) this.startTimer();
    else this.stopTimer();
  }

  /**
   * A session about to expire that nobody will refresh (or the one in use): warned once per session
   * per sidecar run, with a button that runs the command that makes it again. A failed refresh only
   * goes to the log: the sidecar retries it, and a toast per retry would be noise.
   */
  onSessionsChanged(params: SessionsChangedParams): void {
    if (params.reason === "refreshFailed") {
      this.ctx.output.warn(`session ${params.session} could not be refreshed${params.message ? `: ${params.message}` : ""}`);
      return;
    }
    const list = this.ctx.sessions;
    const warning = list && expiryWarning(params.reason, params.session, list, Date.now());
    if (!warning || this.ctx.expiryWarned.has(warning.session)) return;
    this.ctx.expiryWarned.add(warning.session);
    this.ctx.output.warn(warning.text);
    const renew = warning.renew;
    const buttons = renew ? ["Renew…"] : [];
    void vscode.window.showWarningMessage(warning.text, ...buttons).then((choice) => {
      if (choice && renew) void vscode.commands.executeCommand(renew.command, renew.args);
    });
  }

  private startTimer(): void {
    if (this.timer) return;
    // A tick only redraws the countdown: refreshes and expiry arrive as sessions/changed.
    this.timer = setInterval(() => this.render(), TICK_MS);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  dispose(): void {
    this.disposed = true;
    this.stopTimer();
    this.item.dispose();
    this.ssoItem.dispose();
  }
}
