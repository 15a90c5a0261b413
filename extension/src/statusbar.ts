// The status bar item: the active identity and its time left. It only draws what the context
// already knows, so it never starts the sidecar; it appears once the sidecar has run.
import * as vscode from "vscode";
import type { StsContext } from "./context";
import { statusBarText } from "./format";

const TICK_MS = 30_000;

export class SessionStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(private readonly ctx: StsContext) {
    this.item = vscode.window.createStatusBarItem("awsflowSts.session", vscode.StatusBarAlignment.Left, 100);
    this.item.name = "AWS STS session";
    this.item.command = "awsflowSts.switchSession";
  }

  render(): void {
    if (this.disposed) return;
    if (!this.ctx.sidecarStarted) {
      this.item.hide();
      this.stopTimer();
      return;
    }
    const active = this.ctx.activeSession;
    const { text, tooltip, warning } = statusBarText(active, Date.now());
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.backgroundColor = warning ? new vscode.ThemeColor("statusBarItem.warningBackground") : undefined;
    this.item.show();
    // The countdown only moves while a session is active; the base identity has nothing to count.
    if (active) this.startTimer();
    else this.stopTimer();
  }

  private startTimer(): void {
    if (this.timer) return;
    // A tick re-lists (the sidecar may have refreshed the session) and so re-renders with the new time.
    this.timer = setInterval(() => void this.ctx.refreshSessions(), TICK_MS);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  dispose(): void {
    this.disposed = true;
    this.stopTimer();
    this.item.dispose();
  }
}
