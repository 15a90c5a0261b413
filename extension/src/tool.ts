// STSTool, the language-model tool: a thin forwarder to the sidecar's tool/invoke. Errors go back to
// the model as text it can act on (never thrown), except a cancelled turn, which VS Code expects as
// a CancellationError.
import * as vscode from "vscode";
import { promptSignIn } from "./commands/sso";
import type { StsContext } from "./context";
import { signInNeeded } from "./errortext";
import { validateParams } from "./precheck";
import { prepareTexts, readInput, type ToolInput } from "./prepare";
import { COMMANDS, TOOL_NAME } from "./protocol.gen";
import { signInToolText } from "./ssotext";

function textResult(text: string): vscode.LanguageModelToolResult {
  return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(text)]);
}

export class StsTool implements vscode.LanguageModelTool<ToolInput> {
  constructor(private readonly ctx: StsContext) {}

  prepareInvocation(options: vscode.LanguageModelToolInvocationPrepareOptions<ToolInput>): vscode.PreparedToolInvocation {
    const texts = prepareTexts(options.input, this.ctx.settings().confirmCredentialCommands);
    const prepared: vscode.PreparedToolInvocation = { invocationMessage: texts.invocationMessage };
    if (texts.confirmation) {
      prepared.confirmationMessages = { title: texts.confirmation.title, message: new vscode.MarkdownString(texts.confirmation.message) };
    }
    return prepared;
  }

  async invoke(
    options: vscode.LanguageModelToolInvocationOptions<ToolInput>,
    token: vscode.CancellationToken,
  ): Promise<vscode.LanguageModelToolResult> {
    if (token.isCancellationRequested) throw new vscode.CancellationError();
    const { command, params } = readInput(options.input);
    if (command === "") {
      return textResult(`STSTool needs {"command": <command>, "params": {...}}; command is one of ${COMMANDS.map((c) => c.name).join(", ")}.`);
    }
    // Checked here too so a malformed call is answered without starting the sidecar.
    const problem = validateParams(command, options.input?.params);
    if (problem !== undefined) return textResult(problem);
    try {
      const client = await this.ctx.client();
      const result = await client.invoke(command, params, token);
      return textResult(result.text);
    } catch (err) {
      if (token.isCancellationRequested) throw new vscode.CancellationError();
      const text = this.ctx.logError(`STSTool ${command}`, err);
      const signIn = signInNeeded(err);
      if (!signIn) return textResult(text);
      // Only the user can sign in: they get one notification (a click starts the sign-in); the model
      // is told what happened and that it can retry once the user says they signed in.
      promptSignIn(this.ctx, signIn.ssoSession);
      return textResult(signInToolText(text, signIn.ssoSession));
    }
  }
}

export function registerTool(ctx: StsContext): vscode.Disposable {
  return vscode.lm.registerTool<ToolInput>(TOOL_NAME, new StsTool(ctx));
}
