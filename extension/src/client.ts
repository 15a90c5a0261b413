// The JSON-RPC client of the awsflow-sts sidecar. It knows the method names and shapes of
// protocol/model.json (through protocol.gen.ts) and turns every failure, including a dead
// connection, into one error type the rest of the extension can reason about.
import type * as jsonrpcTypes from "vscode-jsonrpc/lib/node/main";
import {
  CredentialsEndpoint,
  ErrorData,
  ExportedSession,
  InitializeParams,
  InitializeResult,
  InvokeParams,
  InvokeResult,
  METHODS,
  ProfileList,
  PROTOCOL_VERSION,
  SessionInfo,
  SessionList,
  SessionNameParams,
  SessionsImportParams,
  SessionsImportResult,
  Settings,
  SettingsUpdateParams,
  SsoAccountList,
  SsoLoginParams,
  SsoLoginResult,
  SsoLogoutResult,
  SsoSessionList,
  SsoSessionParams,
  SsoUseRoleParams,
  ClientInfo,
  ERROR_CODES,
  WriteProfileParams,
  WriteProfileResult,
} from "./protocol.gen";

// vscode-jsonrpc's Node entry point is only reachable through its package "exports" map, which the
// repository's TypeScript setting (moduleResolution "node") does not read. The types come from the
// file itself; the value is required through the public subpath so Node and esbuild resolve it the
// supported way.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const jsonrpc: typeof jsonrpcTypes = require("vscode-jsonrpc/node");

/** The part of a cancellation token this client needs; VS Code's and vscode-jsonrpc's both fit. */
export interface CancellationLike {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): { dispose(): void };
}

/** Codes of errors the client makes itself (the sidecar's own codes are in ERROR_CODES). */
export const CLIENT_ERROR_CODES = {
  /** The connection ended; vscode-jsonrpc uses the same code for a failed write. */
  Disconnected: -32099,
  /** The sidecar speaks another protocol version. */
  VersionMismatch: -32098,
  /** The sidecar could not be started or was not restarted (used by the supervisor). */
  SidecarFailed: -32097,
} as const;

/** Every rejection of this client: a JSON-RPC error of the sidecar, or one the client made. */
export class SidecarError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly data?: ErrorData,
  ) {
    super(message);
    this.name = "SidecarError";
  }

  /** The stable error category (model.json's error kinds, plus "disconnected" and "failed"). */
  get kind(): string {
    return this.data?.kind ?? "internal";
  }
}

/** The error of a call that the sidecar's exit cut short. */
export function disconnectedError(method: string): SidecarError {
  return new SidecarError(
    `the awsflow-sts sidecar stopped while handling ${method}; it will be restarted on the next call`,
    CLIENT_ERROR_CODES.Disconnected,
    { kind: "disconnected" },
  );
}

export interface ConnectOptions {
  onNotification?: (method: string, params: unknown) => void;
  /**
   * Answers the sidecar's requests (mfa/tokenCode). The token is cancelled when the sidecar sends
   * $/cancelRequest for it. A SidecarError thrown here reaches the sidecar with its code, message and
   * data; any other error as an internal error.
   */
  onRequest?: (method: string, params: unknown, token: CancellationLike) => Promise<unknown>;
  /**
   * How long to wait for the sidecar's answer to a cancelled call before giving up on it locally
   * (default 2000 ms). The sidecar answers a cancel at once; this only guards against a hung one.
   */
  cancelGraceMs?: number;
}

const DEFAULT_CANCEL_GRACE_MS = 2000;

/**
 * Writes messages as Content-Length frames, each frame in one piece, and the frames queued in one
 * event-loop turn in one write. vscode-jsonrpc's StreamMessageWriter writes a frame's header and body
 * separately, so every message cost the sidecar two reads and two wake-ups (docs/BENCHMARKS.md).
 * Like it, this writes on the turn after write() is called (setImmediate), so a request and a
 * $/cancelRequest sent right after it still reach the sidecar in separate turns; order is kept.
 */
class FrameWriter extends jsonrpc.AbstractMessageWriter implements jsonrpcTypes.MessageWriter {
  private errorCount = 0;
  private queued: { frame: Buffer; msg: jsonrpcTypes.Message; resolve(): void; reject(err: unknown): void }[] = [];

  constructor(private readonly writable: NodeJS.WritableStream) {
    super();
    writable.on("error", (err: Error) => this.fireError(err));
    writable.on("close", () => this.fireClose());
  }

  write(msg: jsonrpcTypes.Message): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let frame: Buffer;
      try {
        const body = JSON.stringify(msg);
        const length = Buffer.byteLength(body, "utf8");
        const header = `Content-Length: ${length}\r\n\r\n`;
        frame = Buffer.allocUnsafe(header.length + length);
        frame.write(header, 0, "latin1");
        frame.write(body, header.length, "utf8");
      } catch (err) {
        this.failed([{ msg, reject }], err);
        return;
      }
      if (this.queued.push({ frame, msg, resolve, reject }) === 1) {
        setImmediate(() => this.flush());
      }
    });
  }

  end(): void {
    this.writable.end();
  }

  private flush(): void {
    const batch = this.queued;
    this.queued = [];
    const data = batch.length === 1 ? batch[0].frame : Buffer.concat(batch.map((q) => q.frame));
    const done = (err?: Error | null): void => {
      if (err) {
        this.failed(batch, err);
      } else {
        batch.forEach((q) => q.resolve());
      }
    };
    try {
      this.writable.write(data, done);
    } catch (err) {
      this.failed(batch, err);
    }
  }

  private failed(batch: { msg: jsonrpcTypes.Message; reject(err: unknown): void }[], err: unknown): void {
    for (const q of batch) {
      this.errorCount++;
      this.fireError(err, q.msg, this.errorCount);
      q.reject(err);
    }
  }
}

/** A call waiting for its answer, so a closed connection can fail it. */
interface Pending {
  readonly method: string;
  fail(err: SidecarError): void;
}

export class SidecarClient {
  private readonly pending = new Set<Pending>();
  private readonly closeListeners: ((err?: Error) => void)[] = [];
  private closed = false;
  private closeError: Error | undefined;

  private constructor(
    private readonly conn: jsonrpcTypes.MessageConnection,
    private readonly cancelGraceMs: number,
  ) {}

  static connect(readable: NodeJS.ReadableStream, writable: NodeJS.WritableStream, opts: ConnectOptions = {}): SidecarClient {
    const conn = jsonrpc.createMessageConnection(new jsonrpc.StreamMessageReader(readable), new FrameWriter(writable));
    const client = new SidecarClient(conn, opts.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS);
    const { onNotification, onRequest } = opts;
    if (onNotification) {
      conn.onNotification((method: string, params: unknown) => onNotification(method, params));
    }
    if (onRequest) {
      conn.onRequest((method: string, params: unknown, token: jsonrpcTypes.CancellationToken) =>
        Promise.resolve()
          .then(() => onRequest(method, params, token))
          .catch((err: unknown) => {
            // vscode-jsonrpc sends a ResponseError as is; anything else would become "InternalError".
            if (err instanceof SidecarError) throw new jsonrpc.ResponseError(err.code, err.message, err.data);
            throw err;
          }),
      );
    }
    // Remember the first transport error so onClose can say why the connection ended.
    conn.onError(([err]) => {
      client.closeError ??= err;
    });
    conn.onClose(() => client.close(client.closeError));
    conn.listen();
    return client;
  }

  /** The handshake: passes the settings and refuses a sidecar of another protocol version. */
  async initialize(clientInfo: ClientInfo, settings: Settings): Promise<InitializeResult> {
    const params: InitializeParams = { clientInfo, settings };
    const result = await this.request<InitializeResult>(METHODS.initialize, params);
    if (result?.protocolVersion !== PROTOCOL_VERSION) {
      const server = result?.serverInfo ? `${result.serverInfo.name} ${result.serverInfo.version}` : "the sidecar";
      throw new SidecarError(
        `${server} speaks protocol version ${String(result?.protocolVersion)} but this extension speaks version ${PROTOCOL_VERSION}; install the sidecar that ships with the extension`,
        CLIENT_ERROR_CODES.VersionMismatch,
        { kind: "protocol" },
      );
    }
    return result;
  }

  async updateSettings(settings: Settings): Promise<void> {
    const params: SettingsUpdateParams = { settings };
    await this.request<null>(METHODS.settingsUpdate, params);
  }

  invoke(command: string, params?: Record<string, unknown>, token?: CancellationLike): Promise<InvokeResult> {
    const body: InvokeParams = params === undefined ? { command } : { command, params };
    return this.request<InvokeResult>(METHODS.toolInvoke, body, token);
  }

  listSessions(): Promise<SessionList> {
    return this.request<SessionList>(METHODS.sessionsList);
  }

  useSession(name: string): Promise<SessionList> {
    return this.request<SessionList>(METHODS.sessionsUse, sessionName(name));
  }

  forgetSession(name: string): Promise<SessionList> {
    return this.request<SessionList>(METHODS.sessionsForget, sessionName(name));
  }

  /** The only call that returns secrets; for a user's explicit export command. */
  exportSession(name: string): Promise<ExportedSession> {
    return this.request<ExportedSession>(METHODS.sessionsExport, sessionName(name));
  }

  /** Re-seeds a restarted sidecar with sessions exactly as exportSession returned them. */
  importSessions(params: SessionsImportParams): Promise<SessionsImportResult> {
    return this.request<SessionsImportResult>(METHODS.sessionsImport, params);
  }

  /** Writes a session as a profile of the shared credentials file; for a user's explicit command. */
  writeProfile(params: WriteProfileParams): Promise<WriteProfileResult> {
    return this.request<WriteProfileResult>(METHODS.sessionsWriteProfile, params);
  }

  /** The shared config's profiles and the roles they assume (never keys), for the role picker. */
  listProfiles(): Promise<ProfileList> {
    return this.request<ProfileList>(METHODS.profilesList);
  }

  /** The IAM Identity Center sign-ins the shared config names, each with whether it is signed in (never tokens). */
  ssoList(): Promise<SsoSessionList> {
    return this.request<SsoSessionList>(METHODS.ssoList);
  }

  /**
   * Signs in with the device flow. While it waits, the sidecar sends sso/authorize with the code to
   * show; cancelling the token ($/cancelRequest) stops its polling at once.
   */
  ssoLogin(params: SsoLoginParams, token?: CancellationLike): Promise<SsoLoginResult> {
    return this.request<SsoLoginResult>(METHODS.ssoLogin, params, token);
  }

  /** The accounts and roles the signed-in user may use. */
  ssoAccounts(ssoSession: string, token?: CancellationLike): Promise<SsoAccountList> {
    const params: SsoSessionParams = { ssoSession };
    return this.request<SsoAccountList>(METHODS.ssoAccounts, params, token);
  }

  /** Stores a session of an account's role from the sign-in (refreshed from it without a human). */
  ssoUseRole(params: SsoUseRoleParams, token?: CancellationLike): Promise<SessionInfo> {
    return this.request<SessionInfo>(METHODS.ssoUseRole, params, token);
  }

  /** Signs out: the portal's Logout, the token cache removed, the sign-in's sessions forgotten. */
  ssoLogout(ssoSession: string): Promise<SsoLogoutResult> {
    const params: SsoSessionParams = { ssoSession };
    return this.request<SsoLogoutResult>(METHODS.ssoLogout, params);
  }

  /**
   * The loopback container-credentials endpoint (the sidecar starts it on the first call): its URL
   * and the bearer token it demands. The token is a secret: for a terminal's environment only.
   */
  credentialsEndpoint(): Promise<CredentialsEndpoint> {
    return this.request<CredentialsEndpoint>(METHODS.credentialsEndpoint);
  }

  /** Asks the sidecar to finish its calls, then tells it to exit. */
  async shutdown(): Promise<void> {
    await this.request<null>(METHODS.shutdown);
    await this.notify(METHODS.exit);
  }

  /** Fires once when the connection ends (at once if it already has). */
  onClose(listener: (err?: Error) => void): void {
    if (this.closed) {
      listener(this.closeError);
      return;
    }
    this.closeListeners.push(listener);
  }

  dispose(): void {
    this.close(undefined);
  }

  /** Ends the connection once: fails every waiting call and tells the listeners. */
  private close(err: Error | undefined): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    this.closeError = err;
    for (const p of [...this.pending]) {
      p.fail(disconnectedError(p.method));
    }
    this.pending.clear();
    this.conn.dispose();
    for (const listener of this.closeListeners.splice(0)) {
      listener(err);
    }
  }

  private async notify(method: string): Promise<void> {
    if (this.closed) {
      return;
    }
    try {
      await this.conn.sendNotification(method);
    } catch {
      // exit is best effort: a sidecar that is already gone needs no telling.
    }
  }

  private request<R>(method: string, params?: object, token?: CancellationLike): Promise<R> {
    if (this.closed) {
      return Promise.reject(disconnectedError(method));
    }
    return new Promise<R>((resolve, reject) => {
      const cancel = new jsonrpc.CancellationTokenSource();
      let settled = false;
      let graceTimer: NodeJS.Timeout | undefined;
      let subscription: { dispose(): void } | undefined;
      const finish = (settle: () => void): void => {
        if (settled) {
          return;
        }
        settled = true;
        this.pending.delete(entry);
        subscription?.dispose();
        clearTimeout(graceTimer);
        cancel.dispose();
        settle();
      };
      const entry: Pending = { method, fail: (err) => finish(() => reject(err)) };
      this.pending.add(entry);

      if (token) {
        const onCancel = (): void => {
          cancel.cancel();
          graceTimer = setTimeout(() => entry.fail(cancelledLocally(method)), this.cancelGraceMs);
        };
        if (token.isCancellationRequested) {
          onCancel();
        } else {
          subscription = token.onCancellationRequested(onCancel);
        }
      }

      let sent: Promise<R>;
      try {
        sent = params === undefined ? this.conn.sendRequest<R>(method, cancel.token) : this.conn.sendRequest<R>(method, params, cancel.token);
      } catch (err) {
        // vscode-jsonrpc throws synchronously once the connection is closed or disposed.
        entry.fail(toSidecarError(err, method));
        return;
      }
      sent.then(
        (result) => finish(() => resolve(result)),
        (err: unknown) => entry.fail(toSidecarError(err, method)),
      );
    });
  }
}

function sessionName(name: string): SessionNameParams {
  return { name };
}

function cancelledLocally(method: string): SidecarError {
  return new SidecarError(`${method} was cancelled`, ERROR_CODES.RequestCancelled, { kind: "cancelled" });
}

// vscode-jsonrpc's own codes for a write that failed, a connection disposed with calls pending, and
// a connection no longer listening: all mean the sidecar is gone.
const TRANSPORT_CODES: ReadonlySet<number> = new Set([-32099, -32097, -32096]);

/** Turns whatever vscode-jsonrpc rejected with into a SidecarError, keeping the sidecar's code and data. */
function toSidecarError(err: unknown, method: string): SidecarError {
  if (err instanceof SidecarError) {
    return err;
  }
  if (err instanceof jsonrpc.ResponseError) {
    if (TRANSPORT_CODES.has(err.code)) {
      return disconnectedError(method);
    }
    return new SidecarError(err.message, err.code, errorData(err.data));
  }
  return disconnectedError(method);
}

/** Keeps the sidecar's error data when it has the documented shape. */
function errorData(data: unknown): ErrorData | undefined {
  if (typeof data !== "object" || data === null || typeof (data as { kind?: unknown }).kind !== "string") {
    return undefined;
  }
  return data as ErrorData;
}
