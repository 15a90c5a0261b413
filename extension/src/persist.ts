// A copy of the sidecar's sessions in the OS keychain (VS Code's SecretStorage), so a restarted
// sidecar or a reloaded window gets them back. Pure: the store is injected, and the tests use one in
// memory. The stored value holds secrets: nothing here logs a value, only names and reasons.
import type { ExportedSession } from "./protocol.gen";
import { RESERVED_SESSION_NAME } from "./protocol.gen";

/** The part of vscode.SecretStorage the vault uses. */
export interface SecretStore {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
  delete(key: string): PromiseLike<void>;
}

/** One key holds every session, so one write replaces the whole set atomically. */
export const VAULT_KEY = "awsflowSts.sessions.v1";

/** What load returns: the sessions worth importing, and the default to restore. */
export interface VaultContents {
  sessions: ExportedSession[];
  active?: string;
}

interface Stored {
  active?: string;
  sessions: Record<string, ExportedSession>;
}

export interface VaultOptions {
  /** A reason the stored value was discarded, never the value. */
  log: (line: string) => void;
  now?: () => number;
  key?: string;
}

export class SessionVault {
  private readonly key: string;
  private readonly now: () => number;
  /** Every read-modify-write runs after the previous one, so concurrent updates never lose one. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: SecretStore,
    private readonly opts: VaultOptions,
  ) {
    this.key = opts.key ?? VAULT_KEY;
    this.now = opts.now ?? Date.now;
  }

  save(s: ExportedSession): Promise<void> {
    return this.update((d) => {
      d.sessions[s.name] = s;
    });
  }

  remove(name: string): Promise<void> {
    return this.update((d) => {
      delete d.sessions[name];
      if (d.active === name) delete d.active;
    });
  }

  /** The session the sidecar uses by default; "base" (or none) clears it. */
  setActive(name: string | undefined): Promise<void> {
    return this.update((d) => {
      if (name === undefined || name === "" || name === RESERVED_SESSION_NAME) delete d.active;
      else d.active = name;
    });
  }

  clear(): Promise<void> {
    return this.serialize(async () => {
      await this.store.delete(this.key);
    });
  }

  /** The unexpired sessions, and the active one if it is among them. */
  load(now = this.now()): Promise<VaultContents> {
    return this.serialize(async () => {
      const { data, corrupt } = await this.read();
      if (corrupt) await this.store.delete(this.key);
      const sessions = Object.values(data.sessions).filter((s) => !expired(s, now));
      const active = data.active !== undefined && sessions.some((s) => s.name === data.active) ? data.active : undefined;
      return active === undefined ? { sessions } : { sessions, active };
    });
  }

  /** Resolves once every update queued so far is written (or has failed). */
  idle(): Promise<void> {
    return this.serialize(async () => undefined);
  }

  private update(change: (d: Stored) => void): Promise<void> {
    return this.serialize(async () => {
      const { data } = await this.read();
      change(data);
      await this.write(data);
    });
  }

  /** Runs fn after everything queued before it; a failure rejects fn's promise, not the queue. */
  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(() => fn());
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Expired sessions are dropped on every write; an empty vault is deleted rather than stored. */
  private async write(d: Stored): Promise<void> {
    const now = this.now();
    for (const [name, s] of Object.entries(d.sessions)) {
      if (expired(s, now)) delete d.sessions[name];
    }
    if (d.active !== undefined && !(d.active in d.sessions)) delete d.active;
    if (Object.keys(d.sessions).length === 0) {
      await this.store.delete(this.key);
      return;
    }
    await this.store.store(this.key, JSON.stringify(d));
  }

  private async read(): Promise<{ data: Stored; corrupt: boolean }> {
    const raw = await this.store.get(this.key);
    if (raw === undefined || raw === "") return { data: { sessions: {} }, corrupt: false };
    const parsed = parseStored(raw);
    if (typeof parsed === "string") {
      this.opts.log(`discarded the stored sessions: ${parsed}`);
      return { data: { sessions: {} }, corrupt: true };
    }
    for (const reason of parsed.dropped) this.opts.log(`discarded a stored session: ${reason}`);
    return { data: parsed.data, corrupt: false };
  }
}

function expired(s: ExportedSession, now: number): boolean {
  const t = Date.parse(s.expiration);
  return !Number.isFinite(t) || t <= now;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The stored value, or why it cannot be read. Entries without the fields sessions/import needs are
 * dropped one by one. JSON.parse's own message is not used: it quotes the text, which holds secrets.
 */
function parseStored(raw: string): { data: Stored; dropped: string[] } | string {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return "it is not valid JSON";
  }
  if (!isObject(v) || !isObject(v.sessions)) return 'it is not an object with a "sessions" object';
  const data: Stored = { sessions: {} };
  const dropped: string[] = [];
  for (const [key, s] of Object.entries(v.sessions)) {
    const label = JSON.stringify(key.slice(0, 64));
    if (!isObject(s)) {
      dropped.push(`${label} is not an object`);
      continue;
    }
    const missing = ["name", "kind", "command", "expiration"].filter((f) => typeof s[f] !== "string" || s[f] === "");
    if (missing.length > 0) {
      dropped.push(`${label} has no ${missing.join(", ")}`);
      continue;
    }
    if (s.name !== key) {
      dropped.push(`${label} is stored under another name`);
      continue;
    }
    data.sessions[key] = s as unknown as ExportedSession;
  }
  if (typeof v.active === "string" && v.active !== "") data.active = v.active;
  return { data, dropped };
}
