// The one place that wires the palette commands (as vscode-go's commands/index.ts does). Every
// command takes optional args (executeCommand(id, {...})), returns its result or error text, and
// reports errors itself, so no rejection escapes to VS Code's generic "command failed" toast.
import * as vscode from "vscode";
import type { StsContext } from "../context";
import { restartSidecar, showLog } from "./admin";
import { copyEnv, credentialProcess, openTerminal, writeProfile } from "./export";
import { decodeAuthorizationMessage, getAccessKeyInfo, whoAmI } from "./identity";
import { stopUsingLocalSts, useLocalSts } from "./localsts";
import { assumeRole, assumeRoleWithSAML, assumeRoleWithWebIdentity, assumeRoot } from "./roles";
import { forgetSession, listSessions, switchSession } from "./sessions";
import { promptSignIn, ssoSignIn, ssoSignOut, ssoUseRole } from "./sso";
import { signInNeeded } from "../errortext";
import { getDelegatedAccessToken, getFederationToken, getSessionToken, getWebIdentityToken } from "./tokens";
import { Dismissed, toArgs, type CommandHandler, type CommandResult } from "./ui";

/** Command id → handler. package.json's contributes.commands lists the same ids with their titles. */
export const COMMAND_HANDLERS: Readonly<Record<string, CommandHandler>> = {
  "awsflowSts.whoAmI": whoAmI,
  "awsflowSts.assumeRole": assumeRole,
  "awsflowSts.assumeRoleWithWebIdentity": assumeRoleWithWebIdentity,
  "awsflowSts.assumeRoleWithSAML": assumeRoleWithSAML,
  "awsflowSts.assumeRoot": assumeRoot,
  "awsflowSts.decodeAuthorizationMessage": decodeAuthorizationMessage,
  "awsflowSts.getAccessKeyInfo": getAccessKeyInfo,
  "awsflowSts.getSessionToken": getSessionToken,
  "awsflowSts.getFederationToken": getFederationToken,
  "awsflowSts.getWebIdentityToken": getWebIdentityToken,
  "awsflowSts.getDelegatedAccessToken": getDelegatedAccessToken,
  "awsflowSts.listSessions": listSessions,
  "awsflowSts.switchSession": switchSession,
  "awsflowSts.forgetSession": forgetSession,
  "awsflowSts.copyEnv": copyEnv,
  "awsflowSts.openTerminal": openTerminal,
  "awsflowSts.writeProfile": writeProfile,
  "awsflowSts.credentialProcess": credentialProcess,
  "awsflowSts.ssoSignIn": ssoSignIn,
  "awsflowSts.ssoSignOut": ssoSignOut,
  "awsflowSts.ssoUseRole": ssoUseRole,
  "awsflowSts.showLog": showLog,
  "awsflowSts.restartSidecar": restartSidecar,
  "awsflowSts.useLocalSts": useLocalSts,
  "awsflowSts.stopUsingLocalSts": stopUsingLocalSts,
};

export function registerCommands(ctx: StsContext): vscode.Disposable[] {
  return Object.entries(COMMAND_HANDLERS).map(([id, handler]) =>
    vscode.commands.registerCommand(id, async (arg?: unknown): Promise<CommandResult> => {
      try {
        return await handler(ctx, toArgs(arg));
      } catch (err) {
        if (err instanceof Dismissed) return undefined;
        const text = ctx.logError(id, err);
        const signIn = signInNeeded(err);
        if (signIn) {
          // The one "Sign in to …" notification instead of an error toast per failing command.
          promptSignIn(ctx, signIn.ssoSession);
          return text;
        }
        // Not awaited: the notification stays until dismissed, and the caller wants the text now.
        void vscode.window.showErrorMessage(text, "Show Log").then((choice) => {
          if (choice) ctx.output.show(true);
        });
        return text;
      }
    }),
  );
}
