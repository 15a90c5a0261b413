// Keeps the vault (persist.ts) in step with the sidecar's sessions/changed notifications, and
// re-seeds a newly started sidecar from it. Pure: the client and the vault are passed in. Nothing
// here throws from a notification: a session not kept is logged, and the sidecar goes on working.
import { SidecarError } from "./client";
import type { SessionVault } from "./persist";
import {
  ERROR_CODES,
  RESERVED_SESSION_NAME,
  type ExportedSession,
  type SessionInfo,
  type SessionList,
  type SessionsChangedParams,
  type SessionsImportParams,
  type SessionsImportResult,
} from "./protocol.gen";

/** The part of SidecarClient the sync uses. */
export interface SyncClient {
  exportSession(name: string): Promise<ExportedSession>;
  importSessions(params: SessionsImportParams): Promise<SessionsImportResult>;
}

export const CHANGE_REASONS = ["created", "refreshed", "refreshFailed", "expiring", "expired", "forgotten", "imported", "used"] as const;
export type ChangeReason = (typeof CHANGE_REASONS)[number];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isSessionInfo(v: unknown): v is SessionInfo {
  return isObject(v) && typeof v.name === "string" && typeof v.kind === "string" && typeof v.expiration === "string";
}

export function readSessionList(v: unknown): SessionList | undefined {
  if (!isObject(v) || typeof v.active !== "string" || !Array.isArray(v.sessions) || !v.sessions.every(isSessionInfo)) return undefined;
  return v as unknown as SessionList;
}

/** sessions/changed params checked at the boundary: the handlers below trust their shape. */
export function readChangedParams(v: unknown): SessionsChangedParams | undefined {
  if (!isObject(v) || typeof v.reason !== "string" || typeof v.session !== "string") return undefined;
  if (v.message !== undefined && typeof v.message !== "string") return undefined;
  if (typeof v.active !== "string" || (v.info !== undefined && !isSessionInfo(v.info))) return undefined;
  if (v.info !== undefined && (v.info as SessionInfo).name !== v.session) return undefined;
  return v as unknown as SessionsChangedParams;
}

export interface SyncOptions {
  /** The awsflowSts.persistSessions setting, read at each event. */
  enabled: () => boolean;
  /** Names and reasons only, never a session's secrets. */
  log: (line: string) => void;
  now?: () => number;
}

export class SessionSync {
  private readonly now: () => number;
  /**
   * Events are applied in the order they arrived: a session's export is awaited before the next
   * event, so a "forgotten" right after a "created" can never be overtaken by the save.
   */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly vault: SessionVault,
    private readonly opts: SyncOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Applies one sessions/changed notification to the vault; never rejects. */
  onChanged(params: SessionsChangedParams, client: SyncClient): Promise<void> {
    return this.queue(`${params.reason} ${params.session}`, async () => {
      if (!this.opts.enabled()) return;
      switch (params.reason as ChangeReason) {
        case "created":
        case "refreshed":
        case "imported":
          await this.vault.save(await client.exportSession(params.session));
          return;
        case "forgotten":
        case "expired":
          await this.vault.remove(params.session);
          return;
        case "used":
          await this.vault.setActive(params.active);
          return;
        default:
          // expiring and refreshFailed change nothing stored; unknown reasons are for newer clients.
          return;
      }
    });
  }

  /** Drops a session the user forgot, also when the sidecar is gone and sends no notification. */
  forget(name: string): Promise<void> {
    return this.queue(`forget ${name}`, () => this.vault.remove(name));
  }

  /** Persistence turned off: the keychain copy goes at once. */
  disable(): Promise<void> {
    return this.queue("clear", async () => {
      await this.vault.clear();
      this.opts.log("session persistence is off: removed the stored copies of the sessions");
    });
  }

  /** Persistence turned on while sessions exist: store each of them now rather than at its next change. */
  saveAll(client: SyncClient, list: SessionList): Promise<void> {
    return this.queue("save all", async () => {
      if (!this.opts.enabled()) return;
      for (const s of list.sessions) {
        if (s.expired) continue;
        try {
          await this.vault.save(await client.exportSession(s.name));
        } catch (err) {
          this.opts.log(`could not store session ${s.name}: ${message(err)}`);
        }
      }
      await this.vault.setActive(list.active);
    });
  }

  /**
   * Imports the stored, unexpired sessions into a sidecar that just started. Resolves to the
   * sidecar's answer, or undefined when there was nothing to import; rejects if the import failed.
   */
  reseed(client: SyncClient): Promise<SessionsImportResult | undefined> {
    const run = this.chain.then(async () => {
      if (!this.opts.enabled()) {
        await this.vault.clear();
        return undefined;
      }
      const { sessions, active } = await this.vault.load(this.now());
      if (sessions.length === 0) return undefined;
      let result: SessionsImportResult;
      try {
        result = await client.importSessions(active === undefined ? { sessions } : { sessions, active });
      } catch (err) {
        if (err instanceof SidecarError && err.code === ERROR_CODES.MethodNotFound) {
          this.opts.log("this sidecar cannot import sessions (no sessions/import); the stored sessions were not restored");
          return undefined;
        }
        throw err;
      }
      const names = result.imported.join(", ");
      this.opts.log(`restored ${plural(result.imported.length, "session")}${names ? `: ${names}` : ""}`);
      if (result.list.active !== RESERVED_SESSION_NAME && result.imported.includes(result.list.active)) {
        this.opts.log(`the default session is ${result.list.active} again`);
      }
      for (const skip of result.skipped) this.opts.log(`did not restore session ${skip.name}: ${skip.reason}`);
      return result;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Resolves once every event queued so far has been applied. */
  idle(): Promise<void> {
    return this.queue("idle", async () => undefined);
  }

  private queue(what: string, fn: () => Promise<void>): Promise<void> {
    const run = this.chain.then(fn).catch((err: unknown) => {
      this.opts.log(`could not update the stored sessions (${what}): ${message(err)}`);
    });
    this.chain = run;
    return run;
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** A sidecar error's message (already scrubbed of secrets) or a keychain error's. */
function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
