// The sidecar's mfa/tokenCode request: a call (the model's or a command's) needs a code from the
// user's MFA device. The code goes from a masked box straight back to the sidecar: never into chat,
// the log or an error.
import * as vscode from "vscode";
import { SidecarError, type CancellationLike } from "../client";
import type { StsContext } from "../context";
import { ERROR_CODES, type MfaTokenCodeParams, type MfaTokenCodeResult } from "../protocol.gen";

const CANCELLED = "MFA code entry was cancelled";

function readParams(v: unknown): MfaTokenCodeParams {
  const p = typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {};
  if (typeof p.serialNumber !== "string" || p.serialNumber === "") {
    throw new SidecarError('mfa/tokenCode needs "serialNumber"', ERROR_CODES.InvalidParams, { kind: "validation" });
  }
  return {
    serialNumber: p.serialNumber,
    reason: typeof p.reason === "string" && p.reason !== "" ? p.reason : "A call needs a code from your MFA device",
    command: typeof p.command === "string" ? p.command : undefined,
  };
}

function cancelled(): SidecarError {
  return new SidecarError(CANCELLED, ERROR_CODES.RequestCancelled, { kind: "cancelled" });
}

/**
 * Asks for the code. Dismissing the box answers RequestCancelled, which cancels the waiting call; the
 * sidecar cancelling its request (the call was cancelled) closes the box.
 */
export async function askMfaCode(ctx: StsContext, params: unknown, token: CancellationLike): Promise<MfaTokenCodeResult> {
  const p = readParams(params);
  ctx.output.info(`MFA code requested for ${p.serialNumber}${p.command ? ` (${p.command})` : ""}`);
  return ctx.inTurn(async () => {
    if (token.isCancellationRequested) throw cancelled();
    const source = new vscode.CancellationTokenSource();
    const bridge = token.onCancellationRequested(() => source.cancel());
    try {
      const code = await vscode.window.showInputBox(
        {
          title: "AWS STS: MFA code",
          // The sidecar's reason usually names the device already; it is not repeated then.
          prompt: p.reason.includes(p.serialNumber) ? p.reason : `${p.reason} — device ${p.serialNumber}`,
          password: true,
          ignoreFocusOut: true,
          placeHolder: "6 digits",
          validateInput: (s) => (/^\d{6}$/.test(s.trim()) ? undefined : "Exactly 6 digits"),
        },
        source.token,
      );
      if (code === undefined || token.isCancellationRequested) {
        ctx.output.info(`MFA code entry for ${p.serialNumber} was cancelled`);
        throw cancelled();
      }
      return { tokenCode: code.trim() };
    } finally {
      bridge.dispose();
      source.dispose();
    }
  });
}
