// Commands that look at identities and denials: who am I, whose key is this, why was I denied.
import * as vscode from "vscode";
import type { StsContext } from "../context";
import { Flow, input, run, show, type Args, type CommandResult } from "./ui";

const ENCODED_PREFIX = /^[\s\S]*?Encoded authorization failure message:\s*/i;
/** What an encoded message looks like on its own (long, URL-safe base64-like), so a clipboard holding anything else is not sent. */
const ENCODED_BODY = /^[A-Za-z0-9_\-+/=]{64,}$/;
const KEY_ID = /\b(A[A-Z0-9]{3}[A-Z0-9]{12,124})\b/;

export async function whoAmI(ctx: StsContext, args: Args | undefined): Promise<CommandResult> {
  const flow = new Flow("GetCallerIdentity", args);
  const result = await run(ctx, flow.command, flow.params);
  show(ctx, result);
  return result;
}

export async function getAccessKeyInfo(ctx: StsContext, args: Args | undefined): Promise<CommandResult> {
  const flow = new Flow("GetAccessKeyInfo", args);
  const selected = selectedText().match(KEY_ID)?.[1];
  await flow.text("AccessKeyId", {
    title: "GetAccessKeyInfo",
    prompt: "The access key id (AKIA… or ASIA…) whose account to find",
    value: selected,
    validateInput: (s) => (/^\w{16,128}$/.test(s.trim()) ? undefined : "16–128 letters, digits or _"),
  });
  const result = await run(ctx, flow.command, flow.params);
  show(ctx, result);
  return result;
}

/** Keeps only the encoded part: people paste the whole AWS error, often wrapped over lines. */
export function encodedMessage(text: string): string {
  return text.replace(ENCODED_PREFIX, "").replace(/\s+/g, "").replace(/[."'`]+$/, "");
}

export async function decodeAuthorizationMessage(ctx: StsContext, args: Args | undefined): Promise<CommandResult> {
  const flow = new Flow("DecodeAuthorizationMessage", args);
  if (!flow.has("EncodedMessage")) {
    const fromSelection = encodedMessage(selectedText());
    const clip = await vscode.env.clipboard.readText();
    const fromClipboard = ENCODED_PREFIX.test(clip) || ENCODED_BODY.test(clip.trim()) ? encodedMessage(clip) : "";
    flow.params.EncodedMessage =
      fromSelection || fromClipboard || encodedMessage(await input({ title: "DecodeAuthorizationMessage", prompt: "The encoded authorization failure message (the whole AWS error is fine)" }, true));
  } else {
    flow.params.EncodedMessage = encodedMessage(String(flow.params.EncodedMessage));
  }
  const result = await run(ctx, flow.command, flow.params);
  // The decoded policy evaluation is long: a document reads better than a notification.
  const doc = await vscode.workspace.openTextDocument({ language: "markdown", content: result.text });
  await vscode.window.showTextDocument(doc, { preview: false });
  return result;
}

function selectedText(): string {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.selection.isEmpty) return "";
  return editor.document.getText(editor.selection);
}
