// IAM Identity Center in VS Code: sign in (the device flow: the sidecar polls, the user confirms a code
// in the browser), sign out, and store a session of one of the portal's roles. Also the sidecar's
// sso/authorize request (show the code) and sso/changed notification, and the one "Sign in to …"
// notification a call that needs a sign-in raises. The model never starts a sign-in: only these do.
import * as os from "node:os";
import * as path from "node:path";
import * as vscode from "vscode";
import { SidecarError } from "../client";
import type { SignInRun, StsContext } from "../context";
import { ERROR_CODES, type SessionInfo, type SsoAccountList, type SsoLoginParams, type SsoSessionInfo, type SsoUseRoleParams } from "../protocol.gen";
import {
  accountItems,
  authorizeMessage,
  defaultSsoSessionName,
  loginParamsFor,
  readAuthorizeParams,
  readSsoChanged,
  regionProblem,
  roleItems,
  signInItems,
  signInState,
  ssoChangedNotice,
  ssoSessionNameProblem,
  startUrlProblem,
} from "../ssotext";
import { Dismissed, input, pick, type Args, type CommandResult } from "./ui";

export const SIGN_IN_COMMAND = "awsflowSts.ssoSignIn";
export const USE_ROLE_COMMAND = "awsflowSts.ssoUseRole";

const OPEN_BROWSER = "Open Browser";
const COPY_CODE = "Copy Code";

function validation(message: string): SidecarError {
  // A SidecarError, so errorText shows the sentence (it hides the text of unexpected errors).
  return new SidecarError(message, ERROR_CODES.InvalidParams, { kind: "validation" });
}

/** Whether args may skip a confirmation: { confirm: false } with AWSFLOW_E2E=1 in the host's environment. */
function skipConfirmation(args: Args | undefined): boolean {
  return args?.confirm === false && process.env.AWSFLOW_E2E === "1";
}

function str(args: Args | undefined, key: string): string | undefined {
  const v = args?.[key];
  return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
}

/** The shared config file the sidecar writes a new [sso-session] section to (as the AWS tools find it). */
function sharedConfigFile(): string {
  const fromEnv = process.env.AWS_CONFIG_FILE;
  if (fromEnv) return fromEnv.startsWith("~") ? path.join(os.homedir(), fromEnv.slice(1)) : fromEnv;
  return path.join(os.homedir(), ".aws", "config");
}

async function currentSignIns(ctx: StsContext): Promise<SsoSessionInfo[]> {
  const list = await (await ctx.client()).ssoList();
  ctx.setSsoSessions(list.sessions);
  return list.sessions;
}

/** What sso/login is called with, and the name the texts use. */
interface Target {
  login: SsoLoginParams;
  name: string;
}

/** A new sign-in from a start URL: Region and name asked (or taken from args), then the config write confirmed. */
async function newSignIn(ctx: StsContext, args: Args | undefined, known: readonly SsoSessionInfo[]): Promise<Target> {
  let startUrl = str(args, "startUrl");
  let region = str(args, "region");
  let name = str(args, "ssoSession");
  if (startUrl === undefined) {
    startUrl = await input(
      {
        title: "Sign in to IAM Identity Center: start URL",
        prompt: "Your AWS access portal URL (IAM Identity Center settings, or the link in your invitation email)",
        placeHolder: "https://d-1234567890.awsapps.com/start",
        validateInput: startUrlProblem,
      },
      true,
    );
  } else {
    const problem = startUrlProblem(startUrl);
    if (problem) throw validation(`Start URL: ${problem}`);
  }
  if (region === undefined) {
    region = await input(
      {
        title: "Sign in to IAM Identity Center: Region",
        prompt: "The Region your IAM Identity Center instance is in",
        value: ctx.settings().region ?? "us-east-1",
        validateInput: regionProblem,
      },
      true,
    );
  } else {
    const problem = regionProblem(region);
    if (problem) throw validation(`Region: ${problem}`);
  }
  if (name === undefined) {
    name = await input(
      {
        title: "Sign in to IAM Identity Center: name",
        prompt: "A name for this sign-in: the [sso-session NAME] section of your shared AWS config",
        value: defaultSsoSessionName(startUrl),
        validateInput: (v) => ssoSessionNameProblem(v) ?? (known.some((s) => s.name === v.trim()) ? "That name is taken: pick it from the list instead." : undefined),
      },
      true,
    );
  } else {
    const problem = ssoSessionNameProblem(name);
    if (problem) throw validation(`Name: ${problem}`);
  }
  if (!skipConfirmation(args)) {
    const file = sharedConfigFile();
    const add = "Add and Sign In";
    const choice = await vscode.window.showWarningMessage(
      `Add an [sso-session ${name}] section to ${file}?`,
      {
        modal: true,
        detail: `sso_start_url = ${startUrl}\nsso_region = ${region}\nsso_registration_scopes = sso:account:access\n\nThe AWS CLI, the SDKs and the AWS Toolkit read it too. Nothing else in the file changes; the write is atomic.`,
      },
      add,
    );
    if (choice !== add) throw new Dismissed();
  }
  return { login: { startUrl, region, ssoSession: name }, name };
}

/** The sign-in to start: from args ({ ssoSession } | { profile } | { startUrl, region, ssoSession }), else picked. */
async function chooseSignIn(ctx: StsContext, args: Args | undefined): Promise<Target> {
  if (str(args, "startUrl") !== undefined) return newSignIn(ctx, args, ctx.ssoSessions ?? []);
  const session = str(args, "ssoSession");
  if (session !== undefined) {
    // A legacy SSO profile signs in by its profile name.
    const known = ctx.ssoSessions?.find((s) => s.name === session);
    return { login: known ? loginParamsFor(known) : { ssoSession: session }, name: session };
  }
  const profile = str(args, "profile");
  if (profile !== undefined) return { login: { profile }, name: profile };
  const signIns = await currentSignIns(ctx);
  const chosen = await pick(signInItems({ sessions: signIns }, Date.now()), {
    title: "Sign in to IAM Identity Center",
    placeHolder: signIns.length === 0 ? "Your shared AWS config names no sign-in yet: enter your start URL" : "A sign-in of your shared AWS config",
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (chosen.login && chosen.name) return { login: chosen.login, name: chosen.name };
  return newSignIn(ctx, undefined, signIns);
}

/** "Sign In to IAM Identity Center…": the device flow, with a cancellable progress until it ends. */
export async function ssoSignIn(ctx: StsContext, args: Args | undefined): Promise<CommandResult> {
  const busy = (): string | undefined => {
    const under = ctx.signIn;
    if (!under || under.done) return undefined;
    const text = `A sign-in to ${under.name} is under way: confirm its code in the browser, or cancel it first.`;
    void vscode.window.showInformationMessage(text);
    return text;
  };
  const before = busy();
  if (before) return before;
  const target = await chooseSignIn(ctx, args);
  const after = busy();
  if (after) return after;
  const client = await ctx.client();
  const run: SignInRun = { name: target.name, cts: new vscode.CancellationTokenSource(), done: false };
  ctx.signIn = run;
  ctx.output.info(`signing in to IAM Identity Center: ${target.name}`);
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Signing in to IAM Identity Center (${target.name})`, cancellable: true },
      async (progress, token) => {
        run.progress = progress;
        progress.report({ message: "starting…" });
        const bridge = token.onCancellationRequested(() => run.cts.cancel());
        try {
          return await client.ssoLogin(target.login, run.cts.token);
        } finally {
          bridge.dispose();
        }
      },
    );
    ctx.signInPrompts.close(result.ssoSession);
    ctx.signInPrompts.close(target.name);
    void ctx.loadSsoSessions();
    const text = `Signed in to IAM Identity Center ${result.ssoSession} (${result.startUrl}); the token is valid until ${result.expiresAt} and is refreshed automatically while the sign-in lasts${
      result.configWritten ? `. A new [sso-session ${result.ssoSession}] section was added to your shared AWS config` : ""
    }.`;
    ctx.output.info(text);
    const useRole = "Use a Role…";
    void vscode.window.showInformationMessage(text, useRole).then((choice) => {
      if (choice) void vscode.commands.executeCommand(USE_ROLE_COMMAND, { ssoSession: result.ssoSession });
    });
    return text;
  } catch (err) {
    if (run.cts.token.isCancellationRequested || (err instanceof SidecarError && err.code === ERROR_CODES.RequestCancelled)) {
      const text = `Sign-in to ${target.name} was cancelled.`;
      ctx.output.info(text);
      return text;
    }
    throw err;
  } finally {
    run.done = true;
    run.cts.dispose();
    if (ctx.signIn === run) ctx.signIn = undefined;
  }
}

/**
 * The sidecar's sso/authorize: answered at once (null) after showing the code notification, whose
 * "Open Browser" opens the verification link and "Copy Code" copies the code; closing it cancels
 * the sign-in. Refused when no sign-in was started here (only a person starts one).
 */
export function onAuthorize(ctx: StsContext, params: unknown): null {
  const p = readAuthorizeParams(params);
  if (!p) throw new SidecarError("sso/authorize needs ssoSession, userCode and an http(s) verificationUriComplete", ERROR_CODES.InvalidParams, { kind: "validation" });
  const run = ctx.signIn;
  if (!run || run.done) {
    throw new SidecarError("no sign-in was started in VS Code", ERROR_CODES.RequestCancelled, { kind: "cancelled" });
  }
  // The user code is not a secret (the device code is, and the sidecar never sends it).
  ctx.output.info(`sign-in to ${p.ssoSession}: showing code ${p.userCode}; waiting for it to be confirmed at ${p.verificationUri}`);
  run.progress?.report({ message: `confirm the code ${p.userCode} in your browser` });
  void showCode(ctx, run, p.ssoSession, p.userCode, p.verificationUriComplete, authorizeMessage(p, Date.now()));
  return null;
}

/** The code notification, shown again after each button until the sign-in ends or it is closed. */
async function showCode(ctx: StsContext, run: SignInRun, name: string, userCode: string, link: string, message: string): Promise<void> {
  while (!run.done) {
    const choice = await vscode.window.showInformationMessage(message, OPEN_BROWSER, COPY_CODE);
    if (run.done) return;
    if (choice === undefined) {
      ctx.output.info(`the code notification of ${name} was closed: cancelling the sign-in`);
      run.cts.cancel();
      return;
    }
    if (choice === OPEN_BROWSER) {
      const opened = await vscode.env.openExternal(vscode.Uri.parse(link, true));
      if (!opened) ctx.output.warn(`could not open the browser for ${name}; open ${link} yourself`);
    } else {
      await vscode.env.clipboard.writeText(userCode);
      ctx.output.info(`copied the code of ${name} to the clipboard`);
    }
  }
}

/** "Sign Out of IAM Identity Center…": the portal's Logout; the cached token and its sessions go. */
export async function ssoSignOut(ctx: StsContext, args: Args | undefined): Promise<CommandResult> {
  let name = str(args, "ssoSession");
  if (name === undefined) {
    const signedIn = (await currentSignIns(ctx)).filter((s) => s.signedIn);
    if (signedIn.length === 0) {
      const text = "No IAM Identity Center sign-in is signed in.";
      void vscode.window.showInformationMessage(text);
      return text;
    }
    const chosen = await pick(
      signedIn.map((s) => ({ label: s.name, description: s.startUrl, detail: signInState(s, Date.now()), name: s.name })),
      { title: "Sign out of IAM Identity Center", placeHolder: "Its cached token and the sessions made from it are removed" },
    );
    name = chosen.name;
  }
  ctx.signingOut.add(name);
  try {
    const result = await (await ctx.client()).ssoLogout(name);
    const forgotten = result.forgotten.length > 0 ? `; sessions forgotten: ${result.forgotten.join(", ")}` : "";
    for (const s of result.forgotten) await ctx.sync.forget(s);
    const text = `Signed out of IAM Identity Center ${result.ssoSession}${result.cacheRemoved ? "; its cached token was removed" : ""}${forgotten}.`;
    ctx.output.info(text);
    void vscode.window.showInformationMessage(text);
    void ctx.loadSsoSessions();
    void ctx.loadSessions();
    return text;
  } finally {
    // Its own "signedOut" arrives around the answer; after that, a later one is news again.
    const done = name;
    setTimeout(() => ctx.signingOut.delete(done), 5000);
  }
}

/** The signed-in sign-in to use: args.ssoSession, the only one, or picked. Undefined: none, and the user was told. */
async function signedInTarget(ctx: StsContext, args: Args | undefined): Promise<string | undefined> {
  const given = str(args, "ssoSession");
  if (given !== undefined) return given;
  const signedIn = (await currentSignIns(ctx)).filter((s) => s.signedIn);
  if (signedIn.length === 1) return signedIn[0].name;
  if (signedIn.length === 0) {
    const signIn = "Sign In…";
    void vscode.window.showInformationMessage("No IAM Identity Center sign-in is signed in yet.", signIn).then((choice) => {
      if (choice) void vscode.commands.executeCommand(SIGN_IN_COMMAND);
    });
    return undefined;
  }
  const chosen = await pick(
    signedIn.map((s) => ({ label: s.name, description: s.startUrl, detail: signInState(s, Date.now()), name: s.name })),
    { title: "Use an Identity Center role: sign-in" },
  );
  return chosen.name;
}

/**
 * "Use an Identity Center Role…": account, then role (QuickPicks with the account names), then use it
 * now or only store it. With args { ssoSession, accountId, roleName, sessionName?, use? } no prompt.
 */
export async function ssoUseRole(ctx: StsContext, args: Args | undefined): Promise<CommandResult> {
  const ssoSession = await signedInTarget(ctx, args);
  if (ssoSession === undefined) return "No IAM Identity Center sign-in is signed in";
  const client = await ctx.client();
  let accountId = str(args, "accountId");
  let roleName = str(args, "roleName");
  let use = typeof args?.use === "boolean" ? args.use : undefined;
  const asked = accountId === undefined || roleName === undefined;
  if (asked) {
    const list: SsoAccountList = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: `AWS: accounts of ${ssoSession}` },
      () => client.ssoAccounts(ssoSession),
    );
    const accounts = accountItems(list).filter((a) => accountId === undefined || a.account.accountId === accountId);
    if (accounts.length === 0) {
      const text = accountId ? `Account ${accountId} is not among the accounts ${ssoSession} may use.` : `${ssoSession} may use no account.`;
      void vscode.window.showInformationMessage(text);
      return text;
    }
    const account =
      accountId !== undefined ? accounts[0] : await pick(accounts, { title: `Use an Identity Center role (${ssoSession}): account`, matchOnDescription: true, matchOnDetail: true });
    accountId = account.account.accountId;
    if (roleName === undefined) {
      const roles = roleItems(account.account);
      if (roles.length === 0) {
        const text = `${ssoSession} may use no role in account ${account.label} (${accountId}).`;
        void vscode.window.showInformationMessage(text);
        return text;
      }
      roleName = (await pick(roles, { title: `Use an Identity Center role: role in ${account.label}` })).role;
    }
  }
  if (use === undefined) {
    use =
      !asked ||
      (
        await pick(
          [
            { label: "$(arrow-swap) Store it and use it", description: "Later commands, terminals and tasks run as this role", use: true },
            { label: "$(save) Only store it", description: "Keep the active identity; use the session by name", use: false },
          ],
          { title: `Use an Identity Center role: ${roleName} in ${accountId}` },
        )
      ).use;
  }
  if (accountId === undefined || roleName === undefined) throw new Dismissed();
  const sessionName = str(args, "sessionName");
  const params: SsoUseRoleParams = { ssoSession, accountId, roleName, use, ...(sessionName ? { sessionName } : {}) };
  const info: SessionInfo = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: `AWS: ${roleName} in ${accountId}` },
    () => client.ssoUseRole(params),
  );
  await ctx.loadSessions();
  const text = `Stored session ${info.name} (${info.arn ?? `${roleName} in ${accountId}`}) from IAM Identity Center ${ssoSession}${
    use ? "; later commands now run as it" : ""
  }. It is refreshed from the sign-in without asking you.`;
  ctx.output.info(text);
  void vscode.window.showInformationMessage(text);
  return text;
}

/**
 * The one "Sign in to …" notification for a sign-in a call needed (a chat tool call or a command):
 * none while one shows for it or while that sign-in is under way. A click runs the sign-in.
 */
export function promptSignIn(ctx: StsContext, ssoSession: string | undefined, message?: string, button?: string): void {
  const key = ssoSession ?? "";
  const under = ctx.signIn;
  if (under && !under.done && (ssoSession === undefined || under.name === ssoSession)) return;
  if (!ctx.signInPrompts.tryOpen(key)) return;
  const text =
    message ??
    `AWS STS: a call needs your IAM Identity Center sign-in${ssoSession ? ` ${ssoSession}` : ""}, which is missing or has expired. Sign in, then retry.`;
  const label = button ?? (ssoSession ? `Sign in to ${ssoSession}` : "Sign In…");
  ctx.output.warn(text);
  void vscode.window.showWarningMessage(text, label).then((choice) => {
    ctx.signInPrompts.close(key);
    if (choice) void vscode.commands.executeCommand(SIGN_IN_COMMAND, ssoSession ? { ssoSession } : undefined);
  });
}

/** The sidecar's sso/changed: logged, the status bar redrawn; an ended sign-in offers "Sign In…" once. */
export function onSsoChanged(ctx: StsContext, params: unknown): void {
  const change = readSsoChanged(params);
  if (!change) {
    ctx.output.warn("ignored an sso/changed notification of an unexpected shape");
    return;
  }
  ctx.output.info(
    `IAM Identity Center sign-in ${change.ssoSession}: ${change.state}${change.expiresAt ? ` (token until ${change.expiresAt})` : ""}${
      change.message ? `: ${change.message}` : ""
    }`,
  );
  ctx.applySsoChange(change);
  if (change.state === "signedOut" && ctx.signingOut.delete(change.ssoSession)) return;
  const notice = ssoChangedNotice(change);
  if (notice) promptSignIn(ctx, change.ssoSession, notice, "Sign In…");
}
