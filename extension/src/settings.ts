// Reads the user's awsflowSts.* settings. The sidecar gets only the generated Settings part; the
// model never sees or sets any of them (the tool schema has no such parameters).
import * as vscode from "vscode";
import { parseSettings, type ExtensionSettings } from "./settings-values";

export { LOG_LEVELS, sidecarSettings, type ExtensionSettings } from "./settings-values";

export const SECTION = "awsflowSts";

export function readSettings(): ExtensionSettings {
  const c = vscode.workspace.getConfiguration(SECTION);
  return parseSettings((key) => c.get<unknown>(key));
}
