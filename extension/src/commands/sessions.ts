// Commands over the sidecar's stored sessions: list, switch the default, forget.
import * as vscode from "vscode";
import type { StsContext } from "../context";
import { timeLeft } from "../sessiontext";
import { RESERVED_SESSION_NAME, type SessionInfo, type SessionList } from "../protocol.gen";
import { pick, run, show, type Args, type CommandResult } from "./ui";

type SessionItem = vscode.QuickPickItem & { session: string };

function left(s: SessionInfo): string {
  return s.expired ? "expired" : `${timeLeft(s.secondsLeft)} left`;
}

function sessionItems(ctx: StsContext, list: SessionList, withBase: boolean): SessionItem[] {
  const items: SessionItem[] = list.sessions.map((s) => ({
    label: `${s.name === list.active ? "$(check) " : ""}${s.name}`,
    description: s.arn ?? s.kind,
    detail: [s.command, left(s), s.accessKeyId && `key ${s.accessKeyId}`, s.chained && "chained", s.source && `from ${s.source}`]
      .filter(Boolean)
      .join(" · "),
    session: s.name,
  }));
  if (withBase) {
    const profile = ctx.settings().profile;
    items.unshift({
      label: `${list.active === RESERVED_SESSION_NAME ? "$(check) " : ""}base identity`,
      description: profile ? `profile ${profile}` : "the default credential chain",
      detail: "The credentials of the configured profile, not a stored session",
      session: RESERVED_SESSION_NAME,
    });
  }
  return items;
}

async function currentList(ctx: StsContext): Promise<SessionList> {
  const list = await (await ctx.client()).listSessions();
  ctx.setSessions(list);
  return list;
}

async function act(ctx: StsContext, command: "UseSession" | "ForgetSession", session: string): Promise<CommandResult> {
  // The keychain copy goes first: if the sidecar is gone, the restart this call makes must not restore it.
  if (command === "ForgetSession") await ctx.sync.forget(session);
  const result = await run(ctx, command, { SessionName: session });
  show(ctx, result);
  return result;
}

const NO_SESSIONS = "No stored sessions: commands that mint credentials (AssumeRole, GetSessionToken, …) store them as sessions.";

/**
 * Interactive: pick a session, then Use or Forget it. With args: { SessionName, action: "use" | "forget" }
 * acts directly; other args return the ListSessions result without any prompt.
 */
export async function listSessions(ctx: StsContext, args: Args | undefined): Promise<CommandResult> {
  if (args) {
    const name = args.SessionName;
    if (typeof name === "string" && (args.action === "use" || args.action === "forget")) {
      return act(ctx, args.action === "use" ? "UseSession" : "ForgetSession", name);
    }
    return run(ctx, "ListSessions", {});
  }
  const list = await currentList(ctx);
  if (list.sessions.length === 0) {
    void vscode.window.showInformationMessage(NO_SESSIONS);
    return NO_SESSIONS;
  }
  const chosen = await pick(sessionItems(ctx, list, false), { title: "AWS STS: sessions", matchOnDescription: true, matchOnDetail: true });
  const action = await pick(
    [
      { label: "$(arrow-swap) Use", description: "Make it the default identity for later commands", command: "UseSession" as const },
      { label: "$(trash) Forget", description: "Delete it and its credentials from the sidecar", command: "ForgetSession" as const },
    ],
    { title: `Session ${chosen.session}` },
  );
  return act(ctx, action.command, chosen.session);
}

export async function switchSession(ctx: StsContext, args: Args | undefined): Promise<CommandResult> {
  if (typeof args?.SessionName === "string") return act(ctx, "UseSession", args.SessionName);
  const list = await currentList(ctx);
  const chosen = await pick(sessionItems(ctx, list, true), {
    title: "AWS STS: switch the default identity",
    matchOnDescription: true,
    matchOnDetail: true,
  });
  return act(ctx, "UseSession", chosen.session);
}

export async function forgetSession(ctx: StsContext, args: Args | undefined): Promise<CommandResult> {
  if (typeof args?.SessionName === "string") return act(ctx, "ForgetSession", args.SessionName);
  const list = await currentList(ctx);
  if (list.sessions.length === 0) {
    void vscode.window.showInformationMessage(NO_SESSIONS);
    return NO_SESSIONS;
  }
  const chosen = await pick(sessionItems(ctx, list, false), { title: "AWS STS: forget a session", matchOnDescription: true });
  return act(ctx, "ForgetSession", chosen.session);
}
