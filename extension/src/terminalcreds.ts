// awsflowSts.terminalCredentials: every new integrated terminal and task gets the sidecar's
// container-credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI and its token) through
// context.environmentVariableCollection, so the AWS CLI and the SDKs in it use the active session and
// follow switches and refreshes without being reopened. The endpoint lives in the sidecar: it is set
// when a sidecar starts (never starting one just for this) and cleared when it stops, since its URL
// and token die with it. Not persisted across reloads for the same reason.
import type * as vscode from "vscode";
import type { SidecarClient } from "./client";
import { errorText } from "./errortext";
import { endpointProblem, FULL_URI, TERMINAL_ENV_DESCRIPTION, terminalCredentialVars } from "./terminalenv";

export class TerminalCredentials {
  /** Bumped on every change, so a slow credentials/endpoint answer cannot undo a later clear. */
  private generation = 0;
  /** The endpoint URL new terminals get prepended to their FULL_URI, while they do. */
  private prepending: string | undefined;

  constructor(
    private readonly collection: vscode.GlobalEnvironmentVariableCollection,
    private readonly enabled: () => boolean,
    private readonly log: { info(line: string): void; warn(line: string): void },
  ) {
    collection.persistent = false;
    collection.description = TERMINAL_ENV_DESCRIPTION;
    // Nothing from an earlier window: its sidecar, URL and token are gone.
    collection.clear();
  }

  /** A sidecar started (or the setting turned on while one runs): hand its endpoint to new terminals. */
  async apply(client: SidecarClient): Promise<void> {
    const generation = ++this.generation;
    if (!this.enabled()) {
      this.clear("awsflowSts.terminalCredentials is off");
      return;
    }
    try {
      const endpoint = await client.credentialsEndpoint();
      if (generation !== this.generation) return;
      const problem = endpointProblem(endpoint);
      if (problem) {
        this.clear();
        this.log.warn(`terminals get no credentials from the sidecar: ${problem}`);
        return;
      }
      this.collection.clear();
      this.prepending = undefined;
      for (const v of terminalCredentialVars(endpoint, process.env)) {
        if (v.op === "prepend") {
          this.collection.prepend(v.name, v.value);
          this.prepending = v.value;
        } else {
          this.collection.replace(v.name, v.value);
        }
      }
      // The URL only: the token is a secret.
      this.log.info(`new terminals and tasks get the active session's credentials from ${endpoint.url}`);
    } catch (err) {
      if (generation !== this.generation) return;
      this.clear();
      this.log.warn(`terminals get no credentials from the sidecar: its credentials endpoint is unavailable: ${errorText(err)}`);
    }
  }

  /** Whether new terminals now get url (the endpoint's base URL) prepended to their FULL_URI. */
  prepends(url: string): boolean {
    return this.prepending !== undefined && this.prepending === (url.endsWith("/") ? url : `${url}/`);
  }

  /** The sidecar stopped or the setting went off: new terminals get nothing from here. */
  clear(why?: string): void {
    this.generation++;
    this.prepending = undefined;
    if (why && this.collection.get(FULL_URI) !== undefined) this.log.info(`new terminals no longer get the sidecar's credentials: ${why}`);
    this.collection.clear();
  }
}
